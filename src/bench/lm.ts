// Throughput of the decoder: KV-cache decoding, full recompute, and training (forward + backward + Adam), measured in
// one process on the same weights so that the numbers can be compared as ratios. Used by `introllm bench`.
import * as tf from '@tensorflow/tfjs';
import { Decoder } from '../lm/model';
import { sampleTokens } from '../lm/sampling';
import { Rng } from '../rng';

export interface LmBenchOptions {
  batch: number;
  prompt: number;
  newTokens: number;
  seed: number;
  /** Training steps to time (after one warm-up step); 0 skips the training measurement. */
  trainSteps: number;
  /** Skip the (slow, O(N²)) full-recompute measurement. */
  skipFull?: boolean;
}

export interface LmBenchResult {
  batch: number;
  prompt: number;
  new_tokens: number;
  params: number;
  prefill_ms: number;
  decode_tokens_per_s: number;
  decode_ms_per_step: number;
  full_recompute_tokens_per_s: number | null;
  train_tokens_per_s: number | null;
  train_ms_per_step: number | null;
  peak_rss_mb: number;
  peak_tensor_mb: number;
}

class PeakMemory {
  rss = 0;
  tensors = 0;
  sample(): void {
    this.rss = Math.max(this.rss, process.memoryUsage().rss);
    this.tensors = Math.max(this.tensors, tf.memory().numBytes);
  }
}

function randomPrompts(rng: Rng, B: number, P: number, V: number): number[][] {
  return Array.from({ length: B }, () => Array.from({ length: P }, () => rng.int(V)));
}

/** Prefill + `n` decode steps at τ = 1. Returns [prefill ms, decode ms]. */
export function timeDecode(model: Decoder, prompts: number[][], n: number, rng: Rng, mem?: PeakMemory): [number, number] {
  const B = prompts.length;
  const cache = model.createCache(B, prompts[0].length + n);
  const tau = new Float32Array(B).fill(1);
  try {
    const t0 = performance.now();
    let next = tf.tidy(() => {
      const out = model.prefill(cache, tf.tensor2d(prompts, undefined, 'int32'), undefined, { lastOnly: true });
      const last = tf.squeeze(out.logits, [1]) as tf.Tensor2D;
      return sampleTokens(last, tau, rng).tokens;
    });
    const t1 = performance.now();
    for (let i = 0; i < n; i++) {
      next = tf.tidy(() => sampleTokens(model.decodeStep(cache, next).logits as tf.Tensor2D, tau, rng).tokens);
      mem?.sample();
    }
    return [t1 - t0, performance.now() - t1];
  } finally {
    cache.dispose();
  }
}

/** `n` steps that each run the full forward over the whole sequence so far. Returns ms. */
export function timeFullRecompute(model: Decoder, prompts: number[][], n: number, rng: Rng, mem?: PeakMemory): number {
  const B = prompts.length;
  const seqs = prompts.map((p) => p.slice());
  const tau = new Float32Array(B).fill(1);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const T = seqs[0].length;
    const next = tf.tidy(() => {
      const out = model.forward(tf.tensor2d(seqs, [B, T], 'int32'));
      const last = tf.squeeze(tf.slice(out.logits, [0, T - 1, 0], [B, 1, -1]), [1]) as tf.Tensor2D;
      return sampleTokens(last, tau, rng).tokens;
    });
    seqs.forEach((s, b) => s.push(next[b]));
    mem?.sample();
  }
  return performance.now() - t0;
}

/** Next-token cross-entropy on `seqs` [B, T]: one forward + backward + Adam update per step. Returns ms per step. */
export function timeTrain(model: Decoder, seqs: number[][], steps: number, mem?: PeakMemory): number {
  const opt = tf.train.adam(1e-4);
  const B = seqs.length;
  const T = seqs[0].length;
  const vars = model.variables();
  const step = () => tf.tidy(() => {
    const ids = tf.tensor2d(seqs.map((s) => s.slice(0, T - 1)), [B, T - 1], 'int32');
    const targets = tf.tensor2d(seqs.map((s) => s.slice(1)), [B, T - 1], 'int32');
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(ids).logits;
      return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, model.cfg.vocabSize), logits) as tf.Scalar;
    }, vars);
    opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
    return value.dataSync()[0];
  });
  step(); // warm-up: creates Adam's slots
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    step();
    mem?.sample();
  }
  const ms = (performance.now() - t0) / steps;
  opt.dispose();
  return ms;
}

export function benchDecoder(model: Decoder, o: LmBenchOptions): LmBenchResult {
  const rng = new Rng(o.seed);
  const V = model.cfg.vocabSize;
  const mem = new PeakMemory();
  const prompts = randomPrompts(rng.fork('prompts'), o.batch, o.prompt, V);
  timeDecode(model, prompts, 2, rng.fork('warmup')); // first calls pay for kernel set-up
  const [prefill, decode] = timeDecode(model, prompts, o.newTokens, rng.fork('decode'), mem);
  const full = o.skipFull ? null : timeFullRecompute(model, prompts, o.newTokens, rng.fork('full'), mem);
  const trainSeqs = randomPrompts(rng.fork('train'), o.batch, o.prompt + o.newTokens, V);
  const trainMs = o.trainSteps > 0 ? timeTrain(model, trainSeqs, o.trainSteps, mem) : null;
  mem.sample();
  const toks = o.batch * o.newTokens;
  const r = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    batch: o.batch,
    prompt: o.prompt,
    new_tokens: o.newTokens,
    params: model.numParams(),
    prefill_ms: r(prefill),
    decode_tokens_per_s: r(toks / (decode / 1000)),
    decode_ms_per_step: r(decode / o.newTokens, 2),
    full_recompute_tokens_per_s: full === null ? null : r(toks / (full / 1000)),
    train_tokens_per_s: trainMs === null ? null : r((o.batch * (o.prompt + o.newTokens - 1)) / (trainMs / 1000)),
    train_ms_per_step: trainMs === null ? null : r(trainMs),
    peak_rss_mb: r(mem.rss / 2 ** 20),
    peak_tensor_mb: r(mem.tensors / 2 ** 20),
  };
}
