// The streamed backward pass: θ's gradients handed to a sink (host memory, src/rl/grpo/host-adam.ts) one parameter
// at a time as the backward pass produces them, so that the backend never holds all of θ's gradients; what lets θ of
// a model the backend holds only once train. Every layer runs as a recomputed op (src/lm/recompute.ts) whose
// parameter gradients go to the sink; the final norm too; the LM head's gradient goes in column blocks
// (linearStreamed); the embedding lookup runs outside the tape and its gradient goes to the sink's addColumns.
// Decoder.forward's `stream` option and Decoder.streamedGrads use this; equal to tf.variableGrads over θ
// (tests/lm/streamed-grads.test.ts).
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import type { Decoder, ForwardOutput } from './model';
import { linearStreamed } from './ops';
import { ParamGradSink, recomputed } from './recompute';

/**
 * Receives θ's gradients during a streamed backward pass (streamedGrads), one parameter at a time as the backward
 * pass produces them: `add` a dense gradient of a variable (summed when a variable gets several; with `col` the block
 * of a 2-D variable's columns col … col + g.shape[1]), and `addColumns` the gradient of an embedding lookup (the
 * [d, V] table's columns `ids`, dx [N, d]).
 */
export interface GradSink extends ParamGradSink {
  addColumns(table: tf.Variable, ids: ArrayLike<number>, dx: Float32Array): void;
}

/**
 * The final norm and the LM head of a streamed forward: `x` [N, d] → hidden = norm(x) [N, d] and logits [N, V], the
 * norm as a recomputed op whose weight's gradient goes to `sink`, the head's weight `W` [d, V] gradient in blocks of
 * `block` values (see linearStreamed).
 */
export function streamedHead(
  x: tf.Tensor,
  norm: tf.Variable,
  rmsNorm: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor,
  W: tf.Variable,
  sink: ParamGradSink,
  block: number,
): { hidden: tf.Tensor; logits: tf.Tensor } {
  const hidden = recomputed([norm], (ps, xi) => rmsNorm(xi, ps[0]), x, [], sink);
  const logits = linearStreamed(hidden, W, (dw, col) => sink.add(W, dw, col), block);
  return { hidden, logits };
}

/**
 * The gradients of `loss(model.forward(ids, mask, …, { headFrom }))` with θ's streamed into `sink` and those of
 * `extra` (tensors outside the model, e.g. φ's variables) returned in order. The embedding lookup runs outside the
 * tape and its output is the one θ-side input of the backward pass: every layer, the final norm and the LM head hand
 * their parameters' gradients to the sink as they are computed, and the lookup's gradient goes to the sink's
 * addColumns at the end. The backend holds the weights, the checkpointed activations and one layer's gradients at a
 * time, never all of θ's gradients.
 */
export function streamedGrads(
  model: Decoder,
  ids: Int32Array,
  shape: [number, number],
  mask: ArrayLike<number> | undefined,
  headFrom: number,
  sink: GradSink,
  loss: (out: ForwardOutput) => tf.Scalar,
  extra: tf.Tensor[] = [],
): { value: number; grads: tf.Tensor[] } {
  const [B, T] = shape;
  check(ids.length === B * T, () => `streamedGrads: ${ids.length} ids for a [${B}, ${T}] batch`);
  const idsT = tf.tensor2d(ids, [B, T], 'int32');
  const embeds = tf.tidy(() => model.embedLookup(tf.reshape(idsT, [B * T])));
  try {
    const { value, grads } = tf.valueAndGrads(() => loss(model.forward(idsT, mask, undefined, { headFrom, stream: { sink, embeds } })))([embeds, ...extra]);
    const v = value.dataSync()[0];
    value.dispose();
    sink.addColumns(model.embed, ids, grads[0].dataSync() as Float32Array);
    grads[0].dispose();
    return { value: v, grads: grads.slice(1) };
  } finally {
    tf.dispose([idsT, embeds]);
  }
}
