// The kit's one seeded random number generator, passed explicitly wherever randomness is used (task generation,
// bootstrap resampling, rollout sampling seeds). Algorithm: xoshiro128** (Blackman & Vigna) on four 32-bit words,
// seeded through splitmix32 so that nearby seeds give unrelated streams. Pure integer arithmetic: the same seed gives
// the same numbers on every platform, and the state can be saved in a checkpoint and restored exactly.
import { KitError } from './errors';

/** A checkpointable RNG state: four unsigned 32-bit words, not all zero. */
export interface RngState {
  kind: 'xoshiro128ss';
  s: [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over the UTF-16 code units of a string: a stable 32-bit hash for labels and canonical forms. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private s: [number, number, number, number];

  /** `seed`: any finite number; its integer part modulo 2^32 is used (as is a second word from the high bits). */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new KitError(`rng: seed must be a finite number, got ${seed}`);
    const lo = Math.trunc(seed) >>> 0;
    const hi = Math.trunc(seed / 4294967296) >>> 0;
    const sm = splitmix32(lo ^ Math.imul(hi, 0x27d4eb2d));
    this.s = [sm(), sm(), sm(), sm()];
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** The next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A uniform integer in [0, n), without modulo bias. `n`: a positive integer ≤ 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new KitError(`rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A uniform integer in [lo, hi], both inclusive. */
  range(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new KitError(`rng.range: need integers lo <= hi, got ${lo}, ${hi}`);
    return lo + this.int(hi - lo + 1);
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new KitError('rng.pick: empty array');
    return items[this.int(items.length)];
  }

  /** A shuffled copy (Fisher–Yates); the input is not changed. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** A standard normal draw (Box–Muller; uses two uniforms). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * An independent stream derived from this one's current state and `label`. The parent is not advanced, so adding
   * a fork does not change the parent's later numbers; the same state and label always give the same child.
   */
  fork(label: string | number): Rng {
    const h = hashString(`${typeof label}:${label}`);
    const child = new Rng(0);
    const sm = splitmix32(h ^ this.s[0] ^ rotl(this.s[1], 8) ^ rotl(this.s[2], 16) ^ rotl(this.s[3], 24));
    child.s = [(this.s[0] ^ sm()) >>> 0, (this.s[1] ^ sm()) >>> 0, (this.s[2] ^ sm()) >>> 0, (this.s[3] ^ sm()) >>> 0];
    if ((child.s[0] | child.s[1] | child.s[2] | child.s[3]) === 0) child.s[0] = 1;
    return child;
  }

  /** A copy of the current state, safe to JSON-serialise into a checkpoint. */
  state(): RngState {
    return { kind: 'xoshiro128ss', s: [this.s[0], this.s[1], this.s[2], this.s[3]] };
  }

  /** Restores a generator from `state()`; a malformed state is a KitError. */
  static fromState(state: unknown): Rng {
    const st = state as Partial<RngState> | null;
    const ok =
      st !== null &&
      typeof st === 'object' &&
      st.kind === 'xoshiro128ss' &&
      Array.isArray(st.s) &&
      st.s.length === 4 &&
      st.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
      st.s.some((w) => w !== 0);
    if (!ok) throw new KitError(`rng.fromState: expected {kind: 'xoshiro128ss', s: four uint32 words, not all zero}, got ${JSON.stringify(state)}`);
    const r = new Rng(0);
    r.s = [st.s![0], st.s![1], st.s![2], st.s![3]];
    return r;
  }
}
