// The one MLP head module of the learned temperature policies: u = W2 · ReLU(W1 x + b1) + b2 (paper: on h_t with
// W1: d → d/2, W2: d/2 → 3; the ablations change the input width and the number of outputs). Seeded initialisation:
// W1 ~ He N(0, 2/in), b1 = 0, W2 ~ N(0, scale²/hid) (small, so that u ≈ b2 at the start), b2 = the given output bias,
// which sets the initial gate rate and τ distribution. Weights are [in, out] and multiplied through linear() (the
// wasm-friendly gradient, src/lm/ops.ts).
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import { linear } from '../lm/ops';
import { Rng } from '../rng';

export class MlpHead {
  readonly w1: tf.Variable; // [in, hid]
  readonly b1: tf.Variable; // [hid]
  readonly w2: tf.Variable; // [hid, out]
  readonly b2: tf.Variable; // [out]

  /** outBias: out values for b2; initScale ≥ 0: W2's scale; rng: consumed for W1 then W2 (row-major). */
  constructor(
    readonly inDim: number,
    readonly hiddenDim: number,
    readonly outDim: number,
    outBias: number[],
    initScale: number,
    rng: Rng,
  ) {
    check(
      Number.isInteger(inDim) && inDim > 0 && Number.isInteger(hiddenDim) && hiddenDim > 0 && Number.isInteger(outDim) && outDim > 0,
      () => `MlpHead: sizes must be positive integers, got in ${inDim}, hidden ${hiddenDim}, out ${outDim}`,
    );
    check(outBias.length === outDim, () => `MlpHead: outBias must have ${outDim} entries, got ${outBias.length}`);
    const normals = (n: number, std: number) => Float32Array.from({ length: n }, () => rng.normal() * std);
    const w1 = normals(inDim * hiddenDim, Math.sqrt(2 / inDim));
    const w2 = normals(hiddenDim * outDim, initScale / Math.sqrt(hiddenDim));
    // tf.variable keeps its own reference to the data: the initial tensors are disposed right away.
    const own = (t: tf.Tensor) => {
      const v = tf.variable(t, true);
      t.dispose();
      return v;
    };
    this.w1 = own(tf.tensor2d(w1, [inDim, hiddenDim]));
    this.b1 = own(tf.zeros([hiddenDim]));
    this.w2 = own(tf.tensor2d(w2, [hiddenDim, outDim]));
    this.b2 = own(tf.tensor1d(outBias));
  }

  /** x [N, in] → u [N, out]. */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    check(x.rank === 2 && x.shape[1] === this.inDim, () => `MlpHead.forward: x must be [N, ${this.inDim}], got [${x.shape}]`);
    return tf.tidy(() => {
      const a = tf.relu(tf.add(linear(x, this.w1), this.b1));
      return tf.add(linear(a, this.w2), this.b2) as tf.Tensor2D;
    });
  }

  /** [W1, b1, W2, b2]. */
  variables(): tf.Variable[] {
    return [this.w1, this.b1, this.w2, this.b2];
  }

  static readonly VARIABLE_NAMES = ['w1', 'b1', 'w2', 'b2'];

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}
