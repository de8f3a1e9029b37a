// Where a decode step and a training step of a model spend their time, per kernel kind (tf.profile; kernel times as
// the backend reports them), for docs/benchmarks.md#where-the-time-goes.
//   npx tsx scripts/profile-step.ts [MODEL_DIR (default data/models/tiny-countdown)] [--batch 128] [--train-batch 32]
//     [--random-init SEED (a shape folder with random weights)] [--decode-only]
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { initBackend, loadModelOnBackend } from '../src/backend';
import { Rng } from '../src/rng';

type Kernel = { name: string; kernelTimeMs: number | { error: string }; inputShapes: number[][] };

// tf.customGrad ops (linear, attention, a checkpointed layer) appear as a wrapper entry whose time includes the
// kernels inside it, which are listed too: the wrappers are left out so that nothing is counted twice.
const WRAPPERS = new Set(['unnamed scope', 'forward']);

function byKind(all: Kernel[]): string {
  const kernels = all.filter((k) => !WRAPPERS.has(k.name));
  const agg = new Map<string, [number, number]>();
  for (const k of kernels) {
    const a = agg.get(k.name) ?? [0, 0];
    a[0]++;
    a[1] += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    agg.set(k.name, a);
  }
  const total = [...agg.values()].reduce((s, a) => s + a[1], 0);
  // BatchMatMul with a batch dimension is attention (q·kᵀ, P·v and their gradients); 2-D is a projection.
  const ms = (k: Kernel) => (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0);
  const batched = kernels.filter((k) => k.name === 'BatchMatMul' && k.inputShapes[0]?.length > 2).reduce((s, k) => s + ms(k), 0);
  const flat = kernels.filter((k) => k.name === 'BatchMatMul' && k.inputShapes[0]?.length <= 2).reduce((s, k) => s + ms(k), 0);
  const rows = [...agg]
    .sort((a, b) => b[1][1] - a[1][1])
    .slice(0, 12)
    .map(([n, [c, t]]) => `  ${n.padEnd(22)} ${String(c).padStart(5)} ${t.toFixed(2).padStart(9)} ms`);
  return [
    `${kernels.length} kernels, ${total.toFixed(1)} ms kernel time (batched matMul ${batched.toFixed(1)} ms, 2-D matMul ${flat.toFixed(1)} ms)`,
    ...rows,
  ].join('\n');
}

(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      batch: { type: 'string', default: '128' },
      'train-batch': { type: 'string', default: '32' },
      'random-init': { type: 'string' },
      'decode-only': { type: 'boolean' },
    },
  });
  await initBackend(undefined, { log: () => {} });
  const dir = positionals[0] ?? 'data/models/tiny-countdown';
  const { model } = loadModelOnBackend(dir, { randomInit: values['random-init'] === undefined ? undefined : Number(values['random-init']) });
  const V = model.cfg.vocabSize;
  const rng = new Rng(0);
  const B = Number(values.batch),
    P = 32,
    N = 128;
  const cache = model.createCache(B, P + N);
  tf.tidy(() => {
    model.prefill(
      cache,
      tf.tensor2d(
        Array.from({ length: B }, () => Array.from({ length: P }, () => rng.int(V))),
        undefined,
        'int32',
      ),
    );
  });
  for (let i = 0; i < N / 2; i++)
    tf.tidy(() => {
      model.decodeStep(cache, new Int32Array(B).fill(3));
    });
  const t0 = performance.now();
  const dec = await tf.profile(() =>
    tf.tidy(() => {
      model.decodeStep(cache, new Int32Array(B).fill(3)).logits.dataSync();
    }),
  );
  console.log(
    `decode step, B${B}, cache ${P + N} (slot ${P + N / 2}): ${(performance.now() - t0).toFixed(1)} ms wall under the profiler; ${byKind(dec.kernels as Kernel[])}`,
  );
  cache.dispose();
  if (values['decode-only']) return;
  const TB = Number(values['train-batch']),
    T = P + N;
  const seqs = Array.from({ length: TB }, () => Array.from({ length: T }, () => rng.int(V)));
  const opt = tf.train.adam(1e-4);
  const step = () =>
    tf.tidy(() => {
      const ids = tf.tensor2d(
        seqs.map((s) => s.slice(0, T - 1)),
        [TB, T - 1],
        'int32',
      );
      const targets = tf.tensor2d(
        seqs.map((s) => s.slice(1)),
        [TB, T - 1],
        'int32',
      );
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(targets, V), model.forward(ids).logits) as tf.Scalar, model.variables());
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
    });
  step();
  const tr = await tf.profile(step);
  console.log(`training step, ${TB} × ${T} tokens (peak ${(tr.peakBytes / 2 ** 20).toFixed(0)} MB of tensors): ${byKind(tr.kernels as Kernel[])}`);
  // What the gradient tape holds at the end of the forward pass, without and with per-layer checkpointing.
  for (const threshold of [Infinity, 0]) {
    model.setExecution({ checkpointTokens: threshold });
    let taped = 0;
    tf.tidy(() => {
      const ids = tf.tensor2d(
        seqs.map((s) => s.slice(0, T - 1)),
        [TB, T - 1],
        'int32',
      );
      tf.variableGrads(() => {
        const loss = tf.sum(model.forward(ids).logits) as tf.Scalar;
        taped = tf.memory().numBytes;
        return loss;
      }, model.variables());
    });
    console.log(`tensors alive at the end of the forward, checkpointing ${threshold === 0 ? 'on' : 'off'}: ${(taped / 2 ** 20).toFixed(0)} MB`);
  }
})();
