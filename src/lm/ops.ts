// Tensor helpers shared by the decoder and the temperature heads.
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import { storeOf } from './kv-write';

/**
 * y = x · w for x [N, in] and w [in, out], with a gradient that transposes explicitly (dx = dy · wᵀ, dw = xᵀ · dy)
 * instead of using matMul's transpose flags: on the wasm backend a transposed 2-D matMul is ~10x slower than a
 * transpose followed by a plain one.
 *
 * When out > in, dw is computed as (dyᵀ · x)ᵀ: XNNPACK copies the right operand into a packed layout on every call,
 * reading it column by column, and here that operand is N rows long (the batch's tokens), so the narrower of x and
 * dy should be on the right (MLP up-projections of the tiny shape: 1.5–2× on this product, more at more tokens; see
 * docs/benchmarks.md). Each element is the same products summed over the N rows in the same order either way, so the
 * two are equal to the bit (tests/lm/ops.test.ts).
 */
export const linear: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    // In a tidy: TF.js runs a custom gradient outside any scope of its own, so whatever it makes (here the transposed
    // copies) would stay alive until the whole backward pass ends.
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xs, ws] = saved;
        const [din, dout] = ws.shape;
        const dw = dout > din ? tf.transpose(tf.matMul(tf.transpose(dy), xs as tf.Tensor2D)) : tf.matMul(tf.transpose(xs), dy as tf.Tensor2D);
        return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), dw];
      }),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;

/**
 * linear(x, w) for w [in, out] whose backward pass hands dw to `onGrad` instead of returning it, in blocks of columns:
 * `onGrad(block, col)` gets dw[:, col … col + width) and the block is freed when it returns. w is closed over, not an
 * input, so TF.js never holds its gradient (a streamed backward pass: θ's gradients go to the host as they appear).
 * For the LM head of a 0.6B model w is a 622 MB [1024, 151936] matrix on a nearly full wasm heap, so neither it nor its
 * whole gradient is ever copied there: dw is made `blockElems` values at a time (64 MB by default), and
 * dx = (w · dyᵀ)ᵀ transposes only dy [N, out] and the small [in, N] result (linear's dy · wᵀ would transpose w). Every
 * value is the same products summed in the same order as linear's gradient (tests/lm/streamed-grads.test.ts).
 */
export function linearStreamed(x: tf.Tensor, w: tf.Tensor, onGrad: (dw: tf.Tensor, col: number) => void, blockElems = 2 ** 24): tf.Tensor {
  const [rows, cols] = w.shape;
  const width = Math.max(1, Math.min(cols, Math.floor(blockElems / rows)));
  const op = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi]);
    return {
      value: tf.matMul(xi as tf.Tensor2D, w as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xT = tf.transpose(saved[0]) as tf.Tensor2D;
        for (let c = 0; c < cols; c += width) {
          const n = Math.min(width, cols - c);
          const block = tf.tidy(() => tf.matMul(xT, n === cols ? (dy as tf.Tensor2D) : tf.slice(dy as tf.Tensor2D, [0, c], [-1, n])));
          onGrad(block, c);
          block.dispose();
        }
        xT.dispose();
        return [tf.tidy(() => tf.transpose(tf.matMul(w as tf.Tensor2D, tf.transpose(dy))))];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
  return op(x);
}

/**
 * Runs synchronous tensor code and disposes every tensor it made, like tf.tidy, for functions that return plain data
 * (arrays, numbers) rather than tensors.
 */
export function tidyValue<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

/**
 * Softmax attention as ONE differentiable op: ctx = softmax(q·kT + mask)·v over the last axis, with a hand-written
 * gradient. q [N, M, hd] (already scaled), kT [N, hd, S], v [N, S, hd], and an additive `mask` [R, 1, T, S] (no
 * gradient) that every group of N·M / (R·T) consecutive query rows shares: the scores are viewed as [R, N·M / (R·T),
 * T, S] to add it, so a mask per batch row serves all its heads without being repeated. Returns [N, M, hd].
 *
 * Why not tf.matMul + tf.softmax under autograd: the tape then keeps every intermediate (scores, masked scores, the
 * softmax input and output, their reshapes), several [N, M, S] tensors per layer, and the backward pass runs
 * transposed batched matMuls. Here the forward keeps only q, kT, v and the probabilities P, and the backward is
 *   dP = dctx·vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dq = dS·k,  dkT = qᵀ·dS,  dv = Pᵀ·dctx
 * with explicit transposes (plain batched matMuls only).
 */
export function attention(q: tf.Tensor3D, kT: tf.Tensor3D, v: tf.Tensor3D, mask: tf.Tensor): tf.Tensor3D {
  const op = tf.customGrad(((qi: tf.Tensor3D, ki: tf.Tensor3D, vi: tf.Tensor3D, save: tf.GradSaveFunc) => {
    const [N, M] = qi.shape;
    const [R, , T, S] = mask.shape;
    // Only P outlives the forward: the raw and masked scores are freed at once, not kept until the tape is done.
    const p = tf.tidy(() => tf.reshape(tf.softmax(tf.add(tf.reshape(tf.matMul(qi, ki), [R, (N * M) / (R * T), T, S]), mask)), [N, M, S])) as tf.Tensor3D;
    save([qi, ki, vi, p]);
    return {
      value: tf.matMul(p, vi),
      // In a tidy (see linear): dP, dS and the transposes are freed at once instead of at the end of the backward pass.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [qs, ks, vs, ps] = saved as tf.Tensor3D[];
          const d = dy as tf.Tensor3D;
          const tr = (x: tf.Tensor3D) => tf.transpose(x, [0, 2, 1]) as tf.Tensor3D;
          const dp = tf.matMul(d, tr(vs));
          const ds = tf.mul(ps, tf.sub(dp, tf.sum(tf.mul(dp, ps), -1, true))) as tf.Tensor3D;
          return [tf.matMul(ds, tr(ks)), tf.matMul(tr(qs), ds), tf.matMul(tr(ps), d)];
        }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor3D, b: tf.Tensor3D, c: tf.Tensor3D) => tf.Tensor3D;
  return op(q, kT, v);
}

/**
 * tf.gather(x, rowOf) along axis 0, by whole-row copies where the backend keeps x's values in CPU memory (storeOf: wasm's
 * heap, the cpu backend's arrays): there tfjs's GatherV2 computes an index per element, ~50 ms to repeat 8 prompts'
 * KV cache of the tiny model to 128 rows (2 MB; tf.tile and tf.concat are no faster), against about a millisecond for
 * the copies. The values are the same (copies); other backends and dtypes keep tf.gather.
 */
export function gatherRows(x: tf.Tensor, rowOf: Int32Array): tf.Tensor {
  const store = x.rank === 0 ? null : storeOf(x);
  if (!store) return tf.tidy(() => tf.gather(x, tf.tensor1d(rowOf, 'int32')));
  const rows = x.shape[0];
  const width = rows === 0 ? 0 : x.size / rows;
  const out = new Float32Array(rowOf.length * width);
  rowOf.forEach((r, i) => {
    check(r >= 0 && r < rows, () => `gatherRows: row index ${r} at ${i} is outside [0, ${rows})`);
    out.set(store.arr.subarray(store.at + r * width, store.at + (r + 1) * width), i * width);
  });
  return tf.tensor(out, [rowOf.length, ...x.shape.slice(1)], 'float32');
}

/**
 * Each of x's n leading rows repeated g times in place, [n, …] → [n · g, …] (row i of the result is row ⌊i / g⌋ of
 * x; gatherRows), differentiable: the gradient of a row is the sum of its g copies' gradients.
 */
export function repeatRows(x: tf.Tensor, g: number): tf.Tensor {
  check(Number.isInteger(g) && g >= 1, () => `repeatRows: g must be a positive integer, got ${g}`);
  const [n, ...rest] = x.shape;
  const op = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: gatherRows(
        xi,
        Int32Array.from({ length: n * g }, (_, i) => Math.floor(i / g)),
      ),
      gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.sum(tf.reshape(dy, [n, g, ...rest]), 1)),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor) => tf.Tensor;
  return op(x);
}
