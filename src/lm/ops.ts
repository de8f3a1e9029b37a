// Tensor helpers shared by the decoder and the temperature heads.
import * as tf from '@tensorflow/tfjs';

/**
 * y = x · w for x [N, in] and w [in, out], with a gradient that transposes explicitly (dx = dy · wᵀ, dw = xᵀ · dy)
 * instead of using matMul's transpose flags: on the wasm backend a transposed 2-D matMul is ~10x slower than a
 * transpose followed by a plain one.
 */
export const linear: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved;
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;

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
