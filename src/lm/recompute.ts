// Activation checkpointing with a chunked recompute: a piece of the network (a decoder layer, the final norm) as one
// differentiable op that keeps only its inputs and output on the gradient tape and recomputes its intermediates in
// the backward pass, optionally a chunk of batch rows at a time, optionally handing its parameters' gradients to a
// sink as soon as they exist (the streamed backward pass, src/lm/streamed-backward.ts). Exact: the recompute runs the
// same ops on the same inputs (tests/lm/model.test.ts, tests/lm/streamed-grads.test.ts). Decoder.forward decides
// when to use it (DecoderExecution.checkpointTokens, .recomputeTokens in src/lm/model.ts).
import * as tf from '@tensorflow/tfjs';

/**
 * Takes a parameter's gradient as soon as a recompute has computed it: `add` a dense gradient of `v` (summed when a
 * variable gets several), or with `col` the block of a 2-D v's columns col … col + g.shape[1]. The streamed backward
 * pass's GradSink (src/lm/streamed-backward.ts) is one.
 */
export interface ParamGradSink {
  add(v: tf.Variable, g: tf.Tensor, col?: number): void;
}

/**
 * The batch rows of a recomputed op's input (see recomputed): `count` rows; `units[0]` leading entries per row of x,
 * `units[1 + j]` of constant j; the backward pass recomputes `chunk` rows at a time.
 */
export interface RecomputeRows {
  count: number;
  units: number[];
  chunk: number;
}

/**
 * `fn(params, x, consts)` as one differentiable op that keeps only its inputs and output: the forward's intermediates
 * are freed at once, and the backward recomputes fn under tf.grads to get the gradients of x and of every parameter.
 * The constants (RoPE tables, mask) are inputs too, so that they outlive the forward's scope (tf.grads disposes what
 * the forward made); their gradient is zero. With a `sink` the parameters are not inputs of the op: their gradients
 * go to the sink as soon as they are computed, and TF.js never holds them.
 *
 * `rows`: x and the constants hold `rows.count` batch rows (`rows.units[i]` leading entries per batch row of x, then
 * of each constant), and fn treats batch rows independently. The recompute in the backward pass then runs
 * `rows.chunk` batch rows at a time, so only one chunk's intermediates and their gradients exist at once (the
 * forward, whose transient tensors are fewer, runs whole: chunking it too lowered no peak and added kernels). dx is
 * the whole batch's to the bit (every op is row-wise); the parameters' gradients are summed chunk by chunk, a
 * different order of the same float32 additions (tests/lm/model.test.ts).
 */
export function recomputed(
  params: tf.Variable[],
  fn: (ps: tf.Tensor[], x: tf.Tensor, consts: tf.Tensor[]) => tf.Tensor,
  x: tf.Tensor,
  consts: tf.Tensor[],
  sink?: ParamGradSink,
  rows?: RecomputeRows,
): tf.Tensor {
  const np = sink ? 0 : params.length;
  const spans: [number, number][] = [];
  const step = rows ? Math.max(1, rows.chunk) : Infinity;
  if (!rows || step >= rows.count) spans.push([0, rows?.count ?? 1]);
  else for (let b = 0; b < rows.count; b += step) spans.push([b, Math.min(step, rows.count - b)]);
  const whole = spans.length === 1;
  // Batch rows [b0, b0 + n) of a tensor whose leading axis has `unit` entries per batch row.
  const part = (t: tf.Tensor, unit: number, [b0, n]: [number, number]) =>
    whole ? t : tf.slice(t, [b0 * unit, ...t.shape.slice(1).map(() => 0)], [n * unit, ...t.shape.slice(1).map(() => -1)]);
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const inputs = args as tf.Tensor[];
    save(inputs);
    const split = (ts: tf.Tensor[]) => ({ xi: ts[0], ps: sink ? params : ts.slice(1, 1 + np), cs: ts.slice(1 + np) });
    const { xi, ps, cs } = split(inputs);
    const u = rows?.units ?? [];
    return {
      value: tf.tidy(() => fn(ps, xi, cs)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const s = split(saved);
        // tf.grads here runs inside the outer backward pass, which TF.js 4.22 does not expect: its engine would
        // replace the outer tape by the inner one and then drop it (gradientDepth is 0 again by now). Keep the
        // outer tape and put it back, so the outer pass can finish and free its saved tensors.
        const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
        const outerTape = state.activeTape;
        const dxs: tf.Tensor[] = [];
        let acc: tf.Tensor[] | null = null;
        try {
          for (const sp of spans) {
            const grads = tf.tidy(() => {
              const cs = s.cs.map((c, j) => part(c, u[1 + j], sp));
              return tf.grads((...xs: tf.Tensor[]) => fn(xs.slice(1), xs[0], cs))([part(s.xi, u[0], sp), ...s.ps], part(dy, u[0], sp));
            });
            state.activeTape = outerTape;
            dxs.push(grads[0]);
            if (sink) {
              params.forEach((p, i) => sink.add(p, grads[1 + i]));
              tf.dispose(grads.slice(1));
            } else if (!acc) acc = grads.slice(1);
            else {
              const prev: tf.Tensor[] = acc;
              acc = prev.map((a, i) => tf.add(a, grads[1 + i]));
              tf.dispose([...prev, ...grads.slice(1)]);
            }
          }
        } finally {
          state.activeTape = outerTape;
        }
        const dx = whole ? dxs[0] : tf.concat(dxs, 0);
        if (!whole) tf.dispose(dxs);
        const zeros = s.cs.map((c) => tf.zerosLike(c));
        return [dx, ...(sink ? [] : acc!), ...zeros];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...xs: tf.Tensor[]) => tf.Tensor;
  return op(x, ...(sink ? [] : params), ...consts);
}
