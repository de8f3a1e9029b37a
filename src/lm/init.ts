// Fast seeded normal draws on the host, for random weights of real-size shapes: a 0.5B-parameter model needs half a
// billion normals, which tf.randomNormal (seedrandom + a rejection sampler, in JavaScript, one value per call through
// several closures) takes minutes for. Here: xoshiro128** inlined on 32-bit integers, and Marsaglia & Tsang's
// ziggurat with 128 layers (J. Stat. Softw. 5(8), 2000): about 98.8% of draws cost one integer draw, one table lookup,
// one compare and one multiply; the rest fall back to the exact wedge/tail test. Exact in distribution (up to the
// 32-bit resolution of each layer), deterministic for a given seed on every platform.
import { Rng } from '../rng';

const LAYERS = 128;
const R = 3.442619855899; // start of the tail
const KN = new Float64Array(LAYERS); // |j| < KN[i]: inside layer i's rectangle
const WN = new Float64Array(LAYERS); // value = j · WN[i]
const FN = new Float64Array(LAYERS); // density at the layer's edge

(() => {
  const m1 = 2147483648; // 2^31: j is a signed 32-bit integer
  const vn = 9.91256303526217e-3; // area of each layer
  let dn = R;
  let tn = dn;
  const q = vn / Math.exp(-0.5 * dn * dn);
  KN[0] = (dn / q) * m1;
  KN[1] = 0;
  WN[0] = q / m1;
  WN[LAYERS - 1] = dn / m1;
  FN[0] = 1;
  FN[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = (dn / tn) * m1;
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / m1;
  }
})();

/**
 * Fills `out` with independent normal draws of mean `mean` and standard deviation `std`, from a generator seeded by
 * four words of `rng` (which is advanced by those four words only). The same rng state gives the same array.
 */
export function fillNormal(out: Float32Array, rng: Rng, std = 1, mean = 0): Float32Array {
  let s0 = rng.nextUint32() | 0;
  let s1 = rng.nextUint32() | 0;
  let s2 = rng.nextUint32() | 0;
  let s3 = rng.nextUint32() | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  // xoshiro128**: returns a signed 32-bit integer (the bits are what matter).
  const next = (): number => {
    const m = Math.imul(s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return r;
  };
  const uni = (): number => ((next() >>> 0) + 0.5) / 4294967296; // in (0, 1)
  const slow = (j: number, i: number): number => {
    for (;;) {
      let x = j * WN[i];
      if (i === 0) {
        // The tail beyond R (Marsaglia's method).
        let y: number;
        do {
          x = -Math.log(uni()) / R;
          y = -Math.log(uni());
        } while (y + y < x * x);
        return j > 0 ? R + x : -R - x;
      }
      if (FN[i] + uni() * (FN[i - 1] - FN[i]) < Math.exp(-0.5 * x * x)) return x; // the wedge
      j = next();
      i = j & (LAYERS - 1);
      if (Math.abs(j) < KN[i]) return j * WN[i];
    }
  };
  for (let k = 0; k < out.length; k++) {
    const j = next();
    const i = j & (LAYERS - 1);
    const z = Math.abs(j) < KN[i] ? j * WN[i] : slow(j, i);
    out[k] = mean + std * z;
  }
  return out;
}
