// Where a training step and an RL update spend their kernel time, by kind of op (matMul, attention, softmax and the
// loss, norms, elementwise, gather, layout, Adam, …) and by phase (forward, backward, the backward's recompute of
// checkpointed layers, optimiser), for docs/performance.md. tf.profile times every kernel as the backend reports it;
// this script also tags each kernel with the op scopes it ran under: tfjs's own (`softmax__op`, …), the decoder's
// methods (rmsNorm, qkv, rope, attend, mlp, head, embedLookup: wrapped here in a scope of their name, as tfjs's op()
// does) and Adam's applyGradients; a kernel of the backward pass is tagged with the scopes of the forward kernel it
// differentiates. Nothing in the library changes; the wrappers only add scope names.
//   npx tsx scripts/profile-ops.ts train [--model bench/shapes/qwen2-tiny] [--batch 128] [--tokens 160] [--json FILE]
//   npx tsx scripts/profile-ops.ts rl [--preset tiny] [--rollouts 128] [--method introllm] [--json FILE]
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, loadModelOnBackend } from '../src/backend';
import { resolveConfig } from '../src/config';
import { methodOverride } from '../src/experiments/methods';
import { setGemmThreads } from '../src/lm/kernels/gemm-threads';
import { Decoder } from '../src/lm/model';
import { Rng } from '../src/rng';
import { closeRun, openRun, trainStep } from '../src/rl/trainer';

type Rec = { name: string; kernelTimeMs: number | Promise<number> | { error: string }; inputShapes: (number[] | null)[]; scopes?: string[]; phase?: string };

const DECODER_SCOPES = ['rmsNorm', 'rope', 'ropeTables', 'qkv', 'attend', 'mlp', 'head', 'embedLookup'];
const engine = tf.engine() as unknown as {
  state: {
    scopeStack: { name: string }[];
    activeProfile: Record<string, unknown>;
    activeTape: { kernelName: string; gradient?: (dys: tf.Tensor[]) => unknown }[] | null;
  };
  addTapeNode: (...a: unknown[]) => void;
  startScope: (n: string) => void;
  endScope: (r: unknown) => void;
};

/** Runs `fn` in an engine scope called `name`, as tfjs's op() does (the scope name is what tags its kernels). */
function scoped<T>(name: string, fn: () => T): T {
  engine.startScope(name);
  try {
    const r = fn();
    engine.endScope(r);
    return r;
  } catch (e) {
    engine.endScope(null);
    throw e;
  }
}

// What a kernel record gets: the scopes it ran under, and the phase.
let backwardOf: string[] | null = null;
let inOptimizer = false;
function tagsNow(): { scopes: string[]; phase: string } {
  const here = engine.state.scopeStack.map((s) => s.name);
  if (inOptimizer) return { scopes: ['adam', ...here], phase: 'optimizer' };
  if (backwardOf) {
    const recompute = here.some((s) => DECODER_SCOPES.includes(s));
    return { scopes: recompute ? here : [...backwardOf, ...here], phase: recompute ? 'backward: recompute' : 'backward' };
  }
  // The tape's own sums of the gradients of a tensor used more than once run in the engine's 'backward' scope.
  if (here.includes('backward')) return { scopes: ['gradient sums', ...here], phase: 'backward' };
  return { scopes: here, phase: 'forward / no tape' };
}

function install(): void {
  const proto = Decoder.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const m of DECODER_SCOPES) {
    const orig = proto[m];
    if (typeof orig !== 'function') throw new Error(`Decoder.${m} is gone: update DECODER_SCOPES`);
    proto[m] = function (this: unknown, ...a: unknown[]) {
      return scoped(m, () => orig.apply(this, a));
    };
  }
  const adam = tf.AdamOptimizer.prototype as unknown as { applyGradients: (...a: unknown[]) => unknown };
  const apply = adam.applyGradients;
  adam.applyGradients = function (this: unknown, ...a: unknown[]) {
    inOptimizer = true;
    try {
      return apply.apply(this, a);
    } finally {
      inOptimizer = false;
    }
  };
  // A tape node's gradient runs with the forward kernel's scopes as its tags.
  const addTapeNode = engine.addTapeNode.bind(engine);
  engine.addTapeNode = (...a: unknown[]) => {
    const scopes = [String(a[0]), ...engine.state.scopeStack.map((s) => s.name)].reverse();
    addTapeNode(...a);
    const tape = engine.state.activeTape;
    const node = tape?.[tape.length - 1];
    if (node?.gradient) {
      const g = node.gradient;
      const tagged = <T>(fn: () => T): T => {
        const prev = backwardOf;
        backwardOf = scopes;
        try {
          return fn();
        } finally {
          backwardOf = prev;
        }
      };
      // A gradient function returns one thunk per input; the kernels run when the tape calls them.
      node.gradient = (dys) => {
        const thunks = tagged(() => g(dys)) as Record<string, () => unknown>;
        return Object.fromEntries(Object.entries(thunks).map(([k, f]) => [k, () => tagged(f)]));
      };
    }
  };
  // Every kernel record pushed while profiling gets its tags.
  let kernels: Rec[] = [];
  Object.defineProperty(engine.state.activeProfile, 'kernels', {
    configurable: true,
    get: () => kernels,
    set: (arr: Rec[]) => {
      kernels = arr;
      const push = arr.push.bind(arr);
      arr.push = (...recs: Rec[]) => push(...recs.map((r) => Object.assign(r, tagsNow())));
    },
  });
}

/** A record whose name is no registered kernel is a customGrad wrapper, timed around kernels that are listed too. */
function isKernel(r: Rec): boolean {
  return tf.getKernel(r.name, tf.getBackend()) !== undefined;
}

const LAYOUT = new Set([
  'Transpose',
  'Reshape',
  'Concat',
  'Slice',
  'StridedSlice',
  'Pad',
  'Tile',
  'Identity',
  'Cast',
  'Pack',
  'Unpack',
  'SplitV',
  'Fill',
  'ZerosLike',
  'OnesLike',
  'Range',
  'BroadcastTo',
]);
const REDUCE = new Set(['Sum', 'Max', 'Min', 'Mean', 'Prod', 'ArgMax', 'ArgMin', 'All', 'Any']);
const GATHER = new Set(['GatherV2', 'GatherNd', 'OneHot', 'ScatterNd', 'UnsortedSegmentSum']);
const SOFTMAX = ['softmax__op', 'logSoftmax__op', 'softmaxCrossEntropy__op', 'logSumExp__op', 'Softmax', 'LogSoftmax'];

/** The kind of op a kernel belongs to: the first rule that matches, from its scopes and its kernel name. */
export function kindOf(r: Rec): string {
  const s = r.scopes ?? [];
  const has = (n: string) => s.includes(n);
  const matMul = r.name === 'BatchMatMul' || r.name === '_FusedMatMul';
  if (has('adam')) return 'Adam';
  if (has('gradient sums')) return 'backward: sums of gradients (tape)';
  if (has('attend')) return matMul ? 'attention: batched matMul' : 'attention: mask, softmax, layout';
  if (matMul && has('head')) return 'matMul 2-D: LM head';
  if (matMul) return (r.inputShapes[0]?.length ?? 2) > 2 ? 'matMul, batched (other)' : 'matMul 2-D: projections';
  if (has('rmsNorm')) return 'RMSNorm';
  if (has('rope') || has('ropeTables')) return 'RoPE';
  if (SOFTMAX.some(has)) return 'softmax / log-softmax / cross-entropy';
  if (GATHER.has(r.name) || has('gather__op') || has('oneHot__op') || has('embedLookup')) return 'gather / one-hot / scatter';
  if (has('mlp')) return 'MLP activation (SiLU, gate × up)';
  if (LAYOUT.has(r.name)) return 'layout (transpose, slice, concat, copy, cast)';
  if (REDUCE.has(r.name)) return 'reductions (other)';
  return 'elementwise (other)';
}

function table(
  recs: Rec[],
  title: string,
): {
  title: string;
  kernels: number;
  ms: number;
  rows: { kind: string; kernels: number; ms: number; share: number; top: string }[];
  phases: Record<string, { kernels: number; ms: number }>;
} {
  const ks = recs.filter(isKernel);
  const ms = (r: Rec) => (typeof r.kernelTimeMs === 'number' ? r.kernelTimeMs : 0);
  const total = ks.reduce((a, r) => a + ms(r), 0);
  const by = new Map<string, Rec[]>();
  for (const r of ks) by.set(kindOf(r), [...(by.get(kindOf(r)) ?? []), r]);
  const rows = [...by]
    .map(([kind, rs]) => {
      const t = rs.reduce((a, r) => a + ms(r), 0);
      const names = new Map<string, number>();
      for (const r of rs) names.set(r.name, (names.get(r.name) ?? 0) + ms(r));
      const top = [...names]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([n, v]) => `${n} ${v.toFixed(0)}`)
        .join(', ');
      return { kind, kernels: rs.length, ms: t, share: t / total, top };
    })
    .sort((a, b) => b.ms - a.ms);
  const phases: Record<string, { kernels: number; ms: number }> = {};
  for (const r of ks) {
    const p = (phases[r.phase ?? '?'] ??= { kernels: 0, ms: 0 });
    p.kernels++;
    p.ms += ms(r);
  }
  return { title, kernels: ks.length, ms: total, rows, phases };
}

function print(t: ReturnType<typeof table>, wallMs: number): void {
  console.log(`\n${t.title}: ${t.kernels} kernels, ${(t.ms / 1000).toFixed(2)} s of kernel time, ${(wallMs / 1000).toFixed(2)} s wall under the profiler`);
  console.log('| kind of op | kernels | kernel time | share | largest kernels (ms) |\n| --- | ---: | ---: | ---: | --- |');
  for (const r of t.rows) console.log(`| ${r.kind} | ${r.kernels} | ${(r.ms / 1000).toFixed(3)} s | ${(100 * r.share).toFixed(1)}% | ${r.top} |`);
  console.log(
    `phases: ${Object.entries(t.phases)
      .map(([p, v]) => `${p} ${v.kernels} kernels ${(v.ms / 1000).toFixed(2)} s`)
      .join('; ')}`,
  );
}

async function profiled(fn: () => unknown): Promise<{ kernels: Rec[]; wallMs: number }> {
  const t0 = performance.now();
  const p = await tf.profile(fn as () => tf.TensorContainer);
  return { kernels: p.kernels as unknown as Rec[], wallMs: performance.now() - t0 };
}

(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      model: { type: 'string', default: 'bench/shapes/qwen2-tiny' },
      batch: { type: 'string', default: '128' },
      tokens: { type: 'string', default: '160' },
      preset: { type: 'string', default: 'tiny' },
      rollouts: { type: 'string', default: '128' },
      method: { type: 'string', default: 'introllm' },
      json: { type: 'string' },
      kernels: { type: 'string' },
      threads: { type: 'string', default: '1' },
    },
  });
  // --kernels NAME: besides the tables, every kernel of that name grouped by input shapes and op scopes (count, time).
  const detail = (label: string, ks: Rec[]) => {
    if (!values.kernels) return;
    const by = new Map<string, { n: number; ms: number }>();
    for (const k of ks) {
      if (k.name !== values.kernels) continue;
      const key = `${JSON.stringify(k.inputShapes)} under ${(k.scopes ?? []).join(' > ') || '(no scope)'} [${k.phase ?? ''}]`;
      const e = by.get(key) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      by.set(key, e);
    }
    console.log(`\n${values.kernels} kernels of the ${label}, by input shapes and scopes:`);
    for (const [key, e] of [...by].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${e.n} × ${key}: ${e.ms.toFixed(1)} ms`);
  };
  const mode = positionals[0] ?? 'train';
  const backend = await initBackend(undefined, { log: () => {} });
  setGemmThreads(Number(values.threads));
  install();
  const out: Record<string, unknown> = {
    mode,
    backend: backend.name,
    backend_detail: backend.detail,
    machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`,
    date: new Date().toISOString(),
  };
  if (mode === 'train') {
    // The benchmark's training step (src/bench/lm.ts timeTrain): next-token cross-entropy, forward + backward + Adam.
    const { model } = loadModelOnBackend(values.model!, { randomInit: 0, theta: 'device' });
    const V = model.cfg.vocabSize,
      B = Number(values.batch),
      T = Number(values.tokens);
    const rng = new Rng(0);
    const seqs = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(V)));
    const opt = tf.train.adam(1e-4);
    const step = () =>
      tf.tidy(() => {
        const ids = tf.tensor2d(
          seqs.map((s) => s.slice(0, T - 1)),
          [B, T - 1],
          'int32',
        );
        const targets = tf.tensor2d(
          seqs.map((s) => s.slice(1)),
          [B, T - 1],
          'int32',
        );
        const { grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(tf.oneHot(targets, V), model.forward(ids).logits) as tf.Scalar,
          model.variables(),
        );
        opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      });
    step(); // warm-up: Adam's slots, kernel set-up
    const p = await profiled(step);
    const t = table(p.kernels, `training step, ${values.model}, ${B} × ${T} tokens`);
    print(t, p.wallMs);
    detail('training step', p.kernels);
    Object.assign(out, { model: values.model, batch: B, tokens: T, wall_ms: p.wallMs, profile: t });
  } else if (mode === 'rl') {
    const method = values.method!;
    const G = resolveConfig({ preset: values.preset }).rollout.groupSize;
    const cfg = resolveConfig({
      preset: values.preset,
      overrides: [
        { source: `method ${method}`, kind: 'method', value: methodOverride(method) },
        { source: 'profile', value: { seed: 0, train: { steps: 2 }, rollout: { promptsPerStep: Number(values.rollouts) / G } } },
      ],
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'introllm-profile-'));
    try {
      const run = await openRun(cfg, dir);
      trainStep(run, 0); // warm-up
      // The step's phases start with src/io/rss.ts startPhase, which resets the high-water mark through
      // /proc/self/clear_refs: the kernel count at each such write marks where the rollout and the update begin.
      const marks: number[] = [];
      const realFs = createRequire(__filename)('node:fs') as typeof fs;
      const write = realFs.writeFileSync;
      realFs.writeFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
        if (file === '/proc/self/clear_refs') marks.push((engine.state.activeProfile.kernels as Rec[]).length);
        return (write as (...a: unknown[]) => void)(file, ...rest);
      }) as typeof fs.writeFileSync;
      syncBuiltinESMExports();
      let rec: Record<string, unknown> = {};
      const p = await profiled(() => {
        rec = trainStep(run, 1);
      });
      realFs.writeFileSync = write;
      syncBuiltinESMExports();
      closeRun(run);
      if (marks.length < 2) throw new Error(`expected the rollout's and the update's phase marks, got ${marks.length}: src/io/rss.ts changed?`);
      const updateFrom = marks[marks.length - 1];
      const rollout = table(p.kernels.slice(0, updateFrom), `RL step, rollout, ${method}, ${values.rollouts} rollouts (${values.preset})`);
      const update = table(p.kernels.slice(updateFrom), `RL step, update, ${method}, ${values.rollouts} rollouts (${values.preset})`);
      print(rollout, rec['time/rollout_ms'] as number);
      print(update, rec['time/update_ms'] as number);
      detail('rollout', p.kernels.slice(0, updateFrom));
      detail('update', p.kernels.slice(updateFrom));
      console.log(
        `step record: rollout ${Math.round(rec['time/rollout_ms'] as number)} ms, update ${Math.round(rec['time/update_ms'] as number)} ms (under the profiler), ${rec['train/tokens']} tokens`,
      );
      Object.assign(out, { preset: values.preset, method, rollouts: Number(values.rollouts), record: rec, rollout, update });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } else {
    throw new Error(`mode: train or rl, got '${mode}'`);
  }
  if (values.json) fs.writeFileSync(values.json, JSON.stringify(out, null, 1) + '\n');
})();
