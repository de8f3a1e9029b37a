// Adam with its moments in host memory, and the host gradient buffers that feed it: how θ of a 0.5B model trains on
// the wasm backend. The wasm heap is 4 GiB; Qwen3-0.6B's float32 weights are 2.4 GB, and TF.js's Adam would add their
// gradients and two moments on the heap (another 7.2 GB). Here the heap keeps only the weights: the backward pass hands
// each parameter's gradient to a HostGrads as soon as it exists (Decoder.forward's `stream` option), and HostAdam
// updates every weight on the host and writes it back, one variable at a time.
//
// The update is TF.js 4.22's AdamOptimizer.applyGradients, op for op, in float32 (Math.fround after every operation;
// a double result of one +, −, ×, ÷ or √ of float32 values rounds to the correctly rounded float32 result), so a host
// step equals a device step to the bit on backends whose float32 arithmetic is IEEE (tests/rl/grpo/host-adam.test.ts):
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  w ← −lr · (m/(1−β1ᵏ)) / (√(v/(1−β2ᵏ)) + ε) + w
// with the running products β1ᵏ, β2ᵏ kept as float32 values, as TF.js does.
import * as tf from '@tensorflow/tfjs';
import { check } from '../../errors';
import type { GradSink } from '../../lm/streamed-backward';
import type { AdamConfig, AdamMoments, BackwardPass, GroupOptimizer, OptimizerState, SavedWeight } from '../../train/optimizer';

const f = Math.fround;

/** The tensor's values in an array of the caller's own: wasm and webgpu read back a copy, the cpu backend its store. */
function ownCopy(t: tf.Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  return tf.getBackend() === 'cpu' ? Float32Array.from(data) : data;
}

/**
 * Gradients of θ collected on the host during one backward pass, keyed by variable (summed where one is used twice).
 * The buffers are kept from pass to pass (clear() only forgets which hold a gradient), so a 0.6B θ's 2.4 GB are not
 * allocated again every step. (I suspected the old buffers, left to the garbage collector, for a second θ step's
 * higher peak; it was not them: 11.5 GB before, 11.6 GB after, the moments being resident from the start of step 2.)
 */
export class HostGrads implements GradSink {
  private readonly byVar = new Map<tf.Variable, Float32Array>();
  /** The variables that have a gradient in this pass. */
  private readonly live = new Set<tf.Variable>();

  /** v's buffer for this pass: on its first use in a pass, filled with `first` (a copy) or with zeros. */
  private buffer(v: tf.Variable, first?: Float32Array): { buf: Float32Array; fresh: boolean } {
    let buf = this.byVar.get(v);
    if (!buf) this.byVar.set(v, (buf = new Float32Array(v.size)));
    if (this.live.has(v)) return { buf, fresh: false };
    this.live.add(v);
    if (first) buf.set(first);
    else buf.fill(0);
    return { buf, fresh: true };
  }

  /**
   * Adds the tensor `g` (same shape as `v`) to v's gradient; with `col`, g [rows, n] is the block of a 2-D v's columns
   * col … col + n. `g` is not disposed.
   */
  add(v: tf.Variable, g: tf.Tensor, col?: number): void {
    if (col !== undefined) {
      this.addBlock(v, g, col);
      return;
    }
    check(g.size === v.size, () => `HostGrads: a gradient of [${g.shape}] for variable '${v.name}' [${v.shape}]`);
    const data = g.dataSync() as Float32Array;
    const { buf, fresh } = this.buffer(v, data);
    if (fresh) return;
    for (let i = 0; i < buf.length; i++) buf[i] = f(buf[i] + data[i]);
  }

  private addBlock(v: tf.Variable, g: tf.Tensor, col: number): void {
    const [rows, cols] = v.shape;
    const n = g.shape[1] ?? 0;
    check(
      v.rank === 2 && g.rank === 2 && g.shape[0] === rows && Number.isInteger(col) && col >= 0 && col + n <= cols,
      () => `HostGrads: a block [${g.shape}] at column ${col} for variable '${v.name}' [${v.shape}]`,
    );
    const { buf } = this.buffer(v);
    const data = g.dataSync() as Float32Array;
    for (let r = 0; r < rows; r++) {
      const o = r * cols + col;
      for (let c = 0; c < n; c++) buf[o + c] = f(buf[o + c] + data[r * n + c]);
    }
  }

  /**
   * Adds the gradient of an embedding lookup: `table` is [d, V] (the kit's layout), `ids` the N looked-up ids and `dx`
   * [N, d] the gradient of the N looked-up rows. Only the columns of the ids are touched.
   */
  addColumns(table: tf.Variable, ids: ArrayLike<number>, dx: Float32Array): void {
    const [d, V] = table.shape;
    check(dx.length === ids.length * d, () => `HostGrads.addColumns: ${dx.length} values for ${ids.length} ids of width ${d}`);
    // Each id's rows are summed first, in order, and then added: the order of TF.js's gather gradient (a segment sum,
    // then the sum with the tied LM head's gradient), so a tied table's gradient is the device one to the bit.
    const seg = new Map<number, Float32Array>();
    for (let n = 0; n < ids.length; n++) {
      const id = ids[n];
      check(Number.isInteger(id) && id >= 0 && id < V, () => `HostGrads.addColumns: id ${id} is outside [0, ${V})`);
      let s = seg.get(id);
      if (!s) seg.set(id, (s = new Float32Array(d)));
      for (let c = 0; c < d; c++) s[c] = f(s[c] + dx[n * d + c]);
    }
    const { buf } = this.buffer(table);
    for (const [id, s] of seg) for (let c = 0; c < d; c++) buf[c * V + id] = f(buf[c * V + id] + s[c]);
  }

  get(v: tf.Variable): Float32Array | undefined {
    return this.live.has(v) ? this.byVar.get(v) : undefined;
  }

  /** The global L2 norm of the gradients of `vars` (a variable with no gradient counts as zero), summed in double. */
  norm(vars: readonly tf.Variable[]): number {
    let s = 0;
    for (const v of vars) {
      const g = this.get(v);
      if (g) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
    }
    return Math.sqrt(s);
  }

  /** Starts a new pass: no variable has a gradient (the buffers stay for the next pass). */
  clear(): void {
    this.live.clear();
  }

  /** Frees the buffers. */
  release(): void {
    this.live.clear();
    this.byVar.clear();
  }
}

/**
 * Adam's state on the host: the step count, the running β products (float32 values) and a moment pair per variable.
 * As a GroupOptimizer it gathers θ's gradients through a streamed backward pass into its own HostGrads.
 */
export class HostAdam implements GroupOptimizer {
  readonly placement = 'host' as const;
  iterations = 0;
  accBeta1: number;
  accBeta2: number;
  /** Per variable in the group's order; empty until the first step (TF.js creates its moments lazily too). */
  m: Float32Array[] = [];
  v: Float32Array[] = [];
  /** The gradient buffers a streamed backward pass fills for this group (kept from step to step). */
  readonly grads = new HostGrads();

  constructor(
    public learningRate: number,
    readonly beta1: number,
    readonly beta2: number,
    readonly epsilon: number,
  ) {
    this.accBeta1 = f(beta1);
    this.accBeta2 = f(beta2);
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  /** Copies the backend gradients into the group's host buffers and steps from them (no clipping). */
  applyGradients(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void {
    check(grads.length === variables.length, () => `HostAdam.applyGradients: ${grads.length} gradients for ${variables.length} variables`);
    // The group's own host buffers take the gradients (no new allocation).
    const host = this.grads;
    host.clear();
    variables.forEach((v, i) => host.add(v, grads[i]));
    this.step(
      variables,
      variables.map((v) => host.get(v)!),
    );
    host.clear();
  }

  backward(_variables: readonly tf.Variable[], pass: BackwardPass, extra: readonly tf.Variable[], accumulate = false): tf.Tensor[] {
    // The streamed pass adds into the host buffers (HostGrads.add sums), so accumulating is not clearing them.
    if (!accumulate) this.grads.clear();
    return pass.streamed(this.grads, [...extra]).grads;
  }

  stepGathered(variables: readonly tf.Variable[], maxNorm: number): number {
    const norm = this.stepFrom(variables, this.grads, maxNorm);
    this.grads.clear();
    return norm;
  }

  /**
   * One step from gradients collected on the host, clipped to a global norm of `maxNorm` (≤ 0 or Infinity: no
   * clipping) as clipByGlobalNorm does. A variable with no gradient gets a zero one. Returns the norm before
   * clipping; a non-finite norm skips the step.
   */
  stepFrom(variables: readonly tf.Variable[], grads: HostGrads, maxNorm: number): number {
    const norm = grads.norm(variables);
    if (!Number.isFinite(norm)) return norm;
    const clip = maxNorm > 0 && Number.isFinite(maxNorm) && norm > maxNorm;
    this.step(
      variables,
      variables.map((v) => grads.get(v) ?? new Float32Array(v.size)),
      clip ? maxNorm / norm : 1,
    );
    return norm;
  }

  /** The same layout as TF.js's getWeights (iter, every m, every v), sharing the host arrays (no copy). */
  async moments(variables: readonly tf.Variable[]): Promise<AdamMoments> {
    const moments = (which: 'm' | 'v') =>
      (which === 'm' ? this.m : this.v).map((data, k): SavedWeight => ({
        name: `${variables[k].name}/${which}`,
        shape: [...variables[k].shape],
        dtype: 'float32',
        data,
      }));
    return {
      accBeta1: this.accBeta1,
      accBeta2: this.accBeta2,
      weights: [{ name: 'iter', shape: [], dtype: 'int32', data: Int32Array.of(this.iterations) }, ...moments('m'), ...moments('v')],
    };
  }

  async restored(variables: readonly tf.Variable[], cfg: Required<AdamConfig>, state: OptimizerState): Promise<HostAdam> {
    const n = variables.length;
    const w = state.weights;
    const h = new HostAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
    h.iterations = Number(w[0].data[0]);
    h.accBeta1 = Math.fround(state.accBeta1);
    h.accBeta2 = Math.fround(state.accBeta2);
    if (w.length > 1) {
      h.m = w.slice(1, 1 + n).map((x) => Float32Array.from(x.data));
      h.v = w.slice(1 + n).map((x) => Float32Array.from(x.data));
    }
    return h;
  }

  dispose(): void {
    this.m = [];
    this.v = [];
    this.grads.release();
  }

  /**
   * One step on `variables` with host gradients `grads` (same order; each multiplied by `scale` first, as clipping
   * does, rounding to float32). Each weight is read from the backend, updated, and written back before the next.
   */
  step(variables: readonly tf.Variable[], grads: readonly Float32Array[], scale = 1): void {
    check(grads.length === variables.length, () => `HostAdam.step: ${grads.length} gradients for ${variables.length} variables`);
    if (this.m.length === 0) {
      this.m = variables.map((x) => new Float32Array(x.size));
      this.v = variables.map((x) => new Float32Array(x.size));
    }
    check(this.m.length === variables.length, () => `HostAdam.step: the state has ${this.m.length} variables, the group ${variables.length}`);
    const b1 = f(this.beta1),
      b2 = f(this.beta2);
    const c1 = f(1 - this.beta1),
      c2 = f(1 - this.beta2);
    const oma1 = f(1 - this.accBeta1),
      oma2 = f(1 - this.accBeta2);
    const eps = f(this.epsilon),
      nlr = f(-this.learningRate),
      s = f(scale);
    variables.forEach((x, k) => {
      const g = grads[k];
      check(g.length === x.size, () => `HostAdam.step: gradient ${k} has ${g.length} values, variable '${x.name}' ${x.size}`);
      const w = ownCopy(x);
      const m = this.m[k],
        v = this.v[k];
      for (let i = 0; i < w.length; i++) {
        const gi = s === 1 ? g[i] : f(g[i] * s);
        const mi = f(f(m[i] * b1) + f(gi * c1));
        const vi = f(f(v[i] * b2) + f(f(gi * gi) * c2));
        m[i] = mi;
        v[i] = vi;
        const mh = f(mi / oma1);
        const vh = f(vi / oma2);
        w[i] = f(f(f(mh / f(f(Math.sqrt(vh)) + eps)) * nlr) + w[i]);
      }
      tf.tidy(() => x.assign(tf.tensor(w, x.shape, 'float32')));
    });
    this.accBeta1 = f(this.accBeta1 * b1);
    this.accBeta2 = f(this.accBeta2 * b2);
    this.iterations++;
  }
}
