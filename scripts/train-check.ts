// A few Adam steps of next-token cross-entropy on one fixed batch with the kit's decoder, on a chosen backend; prints
// one JSON line {backend, losses, grad_norms}. tests/webgpu/ runs it on webgpu (lavapipe) and on cpu and compares:
// the loss must fall and both backends must agree step by step (forward, gradients and Adam on the GPU path).
// The global gradient norm sums one term per variable with tf.addN (more inputs than a WebGPU shader may bind).
//
//   node -r tsx/cjs scripts/train-check.ts --model tests/fixtures/lm/qwen2-f32 --backend webgpu [--steps 5] [--lr 0.01]
import * as tf from '@tensorflow/tfjs';
import { initBackend, loadModelOnBackend } from '../src/backend';
import { intFlag, parseFlags, requireFlag } from '../src/commands/args';

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), { model: { type: 'string' }, backend: { type: 'string' }, steps: { type: 'string' }, lr: { type: 'string' } });
  const backend = await initBackend(f.backend as string | undefined);
  const { model } = loadModelOnBackend(requireFlag(f, 'model'), { trainable: true });
  const steps = intFlag(f, 'steps', 5);
  const lr = f.lr === undefined ? 0.01 : Number(f.lr);
  const V = model.cfg.vocabSize;
  const B = 2;
  const T = 8;
  const seqs = Array.from({ length: B }, (_, b) => Array.from({ length: T + 1 }, (_, t) => (b * 11 + t * 7 + 3) % V));
  const ids = tf.tensor2d(
    seqs.map((s) => s.slice(0, T)),
    [B, T],
    'int32',
  );
  const targets = tf.oneHot(
    tf.tensor2d(
      seqs.map((s) => s.slice(1)),
      [B, T],
      'int32',
    ),
    V,
  );
  const opt = tf.train.adam(lr);
  const vars = model.variables();
  const losses: number[] = [];
  const gradNorms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [loss, norm] = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(targets, model.forward(ids).logits) as tf.Scalar, vars);
      const n = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      return [value.dataSync()[0], n.dataSync()[0]];
    });
    losses.push(loss);
    gradNorms.push(norm);
  }
  // One asynchronous read too: the webgpu backend's own read path.
  const lastLogit = (await tf.tidy(() => tf.sum(model.forward(ids).logits)).data())[0];
  process.stdout.write(JSON.stringify({ backend: backend.name, variables: vars.length, losses, grad_norms: gradNorms, logit_sum_after: lastLogit }) + '\n');
}

main().catch((e) => {
  console.error(`train-check: ${(e as Error).message}`);
  process.exitCode = 1;
});
