// Counts the kernels (= webgpu dispatches; reshapes, identities and casts excluded) of one KV-cache decode step and of
// one forward + backward + Adam step of a model folder or shape (random weights), for results/gpu/README.md.
//   npx tsx scripts/count-dispatches.ts bench/shapes/qwen2-h256
import * as tf from '@tensorflow/tfjs';
import { initBackend, loadModelOnBackend } from '../src/backend';
(async () => {
  await initBackend('wasm', { log: () => {} });
  const dir = process.argv[2];
  const { model } = loadModelOnBackend(dir, { randomInit: 0 });
  const B = 4,
    P = 16;
  const cache = model.createCache(B, P + 8);
  tf.tidy(() => {
    model.prefill(cache, tf.ones([B, P], 'int32') as tf.Tensor2D);
  });
  const free = new Set(['Reshape', 'Identity', 'Cast']);
  const prof = await tf.profile(() =>
    tf.tidy(() => {
      model.decodeStep(cache, new Int32Array(B).fill(3));
    }),
  );
  const dec = prof.kernels.filter((k) => !free.has(k.name)).length;
  cache.dispose();
  const T = 32;
  const opt = tf.train.adam(1e-4);
  const step = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(model.forward(tf.ones([2, T], 'int32') as tf.Tensor2D).logits) as tf.Scalar, model.variables());
      opt.applyGradients(grads as any);
    });
  step();
  const p2 = await tf.profile(step);
  const tr = p2.kernels.filter((k) => !free.has(k.name)).length;
  console.log(JSON.stringify({ model: dir, params: model.numParams(), decode_dispatches: dec, train_dispatches: tr, layers: model.cfg.numLayers }));
})();
