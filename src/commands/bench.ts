// `introllm bench`: decoder throughput (KV-cache decoding, full recompute, training) on the chosen backend, as one
// JSON line with --json. `--random-init SEED` benchmarks a config.json shape with random weights; `--peer torch` runs
// scripts/bench_torch.py (Debian python3-torch on OpenBLAS, src/bench/torch-peer.ts) on the same weights in the same
// run and adds ratios.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { currentBackend, fitBackendToModel, initBackend, loadModelOnBackend, setMatMulThreads } from '../backend';
import { peakRssMb } from '../io/rss';
import { benchDecoder } from '../bench/lm';
import { benchRl } from '../bench/rl';
import { runTorchPeer } from '../bench/torch-peer';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { saveModelFolder } from '../lm/checkpoint';
import { loadHfConfig } from '../lm/config';
import { saveModel, weightBytes } from '../lm/load';
import { GEMM_ROUTES, GemmRoute, setGemmRoute } from '../lm/kernels/gemm';
import { randomWeightSource } from '../lm/model';
import { intFlag, parseFlags, requireFlag } from './args';
import { CONFIG_FLAGS, configInputs, configUsage } from './config-flags';

export const command: Command = {
  summary: 'Measure decoding (KV cache), full-recompute and training throughput of a model.',
  usage: `introllm bench --suite [--peer torch] [--threads 2] [--peer-python PATH] [--repeat 1] [--out FILE]  |  introllm bench --rl [--rollouts N] ${configUsage()} [--methods introllm,fixed-1.0] [--steps 3] [--json]  |  introllm bench --model DIR [--batch 16] [--prompt 32] [--new 96] [--train-steps 3] [--random-init SEED [--weights-out DIR]] [--skip-full] [--peer torch] [--threads 2] [--peer-python PATH] [--backend NAME] [--gemm batched|all|tfjs] [--gemm-threads auto|N] [--json]`,
  async run(argv) {
    const f = parseFlags(argv, {
      model: { type: 'string' },
      batch: { type: 'string' },
      prompt: { type: 'string' },
      new: { type: 'string' },
      'train-steps': { type: 'string' },
      'random-init': { type: 'string' },
      'skip-full': { type: 'boolean' },
      peer: { type: 'string' },
      'weights-out': { type: 'string' },
      threads: { type: 'string' },
      'peer-python': { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      seed: { type: 'string' },
      rl: { type: 'boolean' },
      ...CONFIG_FLAGS,
      methods: { type: 'string' },
      steps: { type: 'string' },
      rollouts: { type: 'string' },
      suite: { type: 'boolean' },
      out: { type: 'string' },
      gemm: { type: 'string' },
      repeat: { type: 'string' },
      'gemm-threads': { type: 'string' },
    });
    // The kit's matMul threads (config key device.threads for runs; --rl takes it from the config): auto = every core.
    const gemmThreadsFlag = (f['gemm-threads'] as string | undefined) ?? 'auto';
    if (gemmThreadsFlag !== 'auto' && !/^[1-9]\d*$/.test(gemmThreadsFlag))
      throw new KitError(`--gemm-threads: 'auto' or a positive integer, got '${gemmThreadsFlag}'`);
    // The wasm/cpu matMul route (config key device.gemm for runs; was the environment variable INTROLLM_GEMM).
    const gemm = f.gemm as string | undefined;
    if (gemm !== undefined && !(GEMM_ROUTES as readonly string[]).includes(gemm))
      throw new KitError(`--gemm: unknown matMul route '${gemm}'; valid: ${GEMM_ROUTES.join(', ')}`);
    const start = async () => {
      const b = await initBackend(f.backend as string | undefined);
      if (gemm !== undefined) setGemmRoute(gemm as GemmRoute);
      if (!f.rl) setMatMulThreads(gemmThreadsFlag === 'auto' ? 'auto' : Number(gemmThreadsFlag));
      return currentBackend() ?? b;
    };
    if (f.suite) {
      return runSuite(
        f.peer === 'torch',
        (f.out as string | undefined) ?? path.join('results', 'bench', 'cpu-suite.json'),
        f.backend as string | undefined,
        gemm,
        intFlag(f, 'repeat', 1),
        intFlag(f, 'threads', 2),
        f['peer-python'] as string | undefined,
      );
    }
    if (f.rl) {
      const backend = await start();
      const inputs = configInputs(f);
      const rows = await benchRl(
        inputs.preset,
        ((f.methods as string | undefined) ?? 'introllm,fixed-1.0').split(','),
        intFlag(f, 'steps', 3),
        intFlag(f, 'seed', 0, 0),
        f.rollouts === undefined ? undefined : intFlag(f, 'rollouts', 0),
        { configFile: inputs.configFile, sets: inputs.sets },
      );
      if (f.json) process.stdout.write(JSON.stringify({ backend: backend.name, preset: inputs.preset, rows }) + '\n');
      else console.table(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v]))));
      return 0;
    }
    const dir = requireFlag(f, 'model');
    const o = {
      batch: intFlag(f, 'batch', 16),
      prompt: intFlag(f, 'prompt', 32),
      newTokens: intFlag(f, 'new', 96),
      trainSteps: intFlag(f, 'train-steps', 3, 0),
      seed: intFlag(f, 'seed', 0, 0),
      skipFull: Boolean(f['skip-full']),
    };
    if (f.peer !== undefined && f.peer !== 'torch') throw new KitError(`--peer: only 'torch' is supported, got '${f.peer}'`);
    const randomInit = f['random-init'] === undefined ? undefined : intFlag(f, 'random-init', 0, 0);
    const backend = await start();
    // With a peer, both sides run on one weight file: random weights are drawn, streamed to a folder (a temporary one
    // unless --weights-out), dropped, and loaded back from that file, timed, as the peer loads it.
    const weightsOut = f['weights-out'] as string | undefined;
    if (weightsOut !== undefined && randomInit === undefined) throw new KitError('--weights-out: only with --random-init (the weights are then written there)');
    let modelDir = dir;
    let tmp: string | null = null;
    const timing: Record<string, number> = {};
    if (randomInit !== undefined && (f.peer === 'torch' || weightsOut !== undefined)) {
      modelDir = weightsOut ?? (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'introllm-bench-')));
      const shape = loadHfConfig(dir);
      // The benchmark's training loop keeps Adam on the backend (tf.train.adam).
      fitBackendToModel(weightBytes(shape), dir, { theta: o.trainSteps > 0 ? 'device' : 'none' });
      let t0 = performance.now();
      if (currentBackend()?.name === 'cpu') {
        // The cpu backend transposes slowly (pure JS): write the same numbers straight from the generator instead.
        saveModelFolder(modelDir, shape, randomWeightSource(shape, randomInit));
        timing.write_random_ms = Math.round(performance.now() - t0);
      } else {
        // Drawn into the backend, then streamed back out of the variables (the path a trained model is saved by).
        const drawn = loadModelOnBackend(dir, { randomInit }).model;
        timing.random_init_ms = Math.round(performance.now() - t0);
        t0 = performance.now();
        await saveModel(modelDir, drawn);
        timing.save_ms = Math.round(performance.now() - t0);
        drawn.dispose();
      }
    }
    try {
      const t0 = performance.now();
      const fromFile = modelDir !== dir || randomInit === undefined;
      const { model, config } = loadModelOnBackend(modelDir, { randomInit: fromFile ? undefined : randomInit, theta: o.trainSteps > 0 ? 'device' : 'none' });
      timing[fromFile ? 'load_ms' : 'random_init_ms'] = Math.round(performance.now() - t0);
      const ours = benchDecoder(model, o);
      const ran = currentBackend() ?? backend; // a model too large for wasm moves an automatically picked backend to cpu
      const result: Record<string, unknown> = {
        backend: ran.name,
        backend_detail: ran.detail,
        model: dir,
        model_type: config.modelType,
        ...ours,
        ...timing,
        peak_rss_process_mb: peakRssMb(),
      };
      if (f.peer === 'torch') {
        const peer = runTorchPeer(modelDir, { ...o, threads: intFlag(f, 'threads', 2), python: f['peer-python'] as string | undefined });
        result.peer = peer;
        const ratio = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 100) / 100 : null);
        result.ratio_vs_peer = {
          decode: ratio(ours.decode_tokens_per_s, peer.decode_tokens_per_s),
          full_recompute: ratio(ours.full_recompute_tokens_per_s, peer.full_recompute_tokens_per_s),
          train: ratio(ours.train_tokens_per_s, peer.train_tokens_per_s),
        };
      }
      result.kv_speedup_vs_full = ours.full_recompute_tokens_per_s ? Math.round((ours.decode_tokens_per_s / ours.full_recompute_tokens_per_s) * 10) / 10 : null;
      if (f.json) process.stdout.write(JSON.stringify(result) + '\n');
      else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(28)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
      model.dispose();
    } finally {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }
    return 0;
  },
};

/**
 * The cases of the CPU benchmark table (docs/benchmarks.md#side-by-side-with-pytorch), each in its own process (a fresh
 * wasm heap), side by side with PyTorch when asked: [shape folder, batch, prompt, new tokens]. Training runs on batch ×
 * (prompt + new) tokens of the same shape (`trainSteps` timed steps after a warm-up; 0: decoding only).
 */
export const SUITE: { name: string; model: string; batch: number; prompt: number; newTokens: number; trainSteps: number }[] = [
  { name: 'h256, B16', model: 'bench/shapes/qwen2-h256', batch: 16, prompt: 32, newTokens: 96, trainSteps: 2 },
  { name: 'h256, B8, 480-token prompt', model: 'bench/shapes/qwen2-h256', batch: 8, prompt: 480, newTokens: 32, trainSteps: 2 },
  { name: 'tiny, B32', model: 'bench/shapes/qwen2-tiny', batch: 32, prompt: 32, newTokens: 128, trainSteps: 2 },
  { name: 'tiny, B128', model: 'bench/shapes/qwen2-tiny', batch: 128, prompt: 32, newTokens: 128, trainSteps: 2 },
  { name: 'Qwen2.5-0.5B, B4', model: 'bench/shapes/qwen2.5-0.5b', batch: 4, prompt: 16, newTokens: 16, trainSteps: 0 },
];

/** The checkout's commit, with '-dirty' when tracked files differ from it (null outside a git checkout). */
function checkoutCommit(): string | null {
  const root = path.join(__dirname, '..', '..');
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  return head.stdout.trim() + (dirty.stdout.trim() ? '-dirty' : '');
}

/**
 * The suite, `repeat` times round-robin (every case once, then every case again: a slow spell of the machine hits all
 * cases alike), each case in its own process. Writes every row (with its `repeat`) to `out` and prints a table of the
 * range over the repeats.
 */
async function runSuite(peer: boolean, out: string, backend?: string, gemm?: string, repeat = 1, threads = 2, python?: string): Promise<number> {
  const bin = path.join(__dirname, '..', '..', 'bin', 'introllm.js');
  const rows: Record<string, unknown>[] = [];
  for (let rep = 0; rep < repeat; rep++) {
    for (const c of SUITE) {
      const args = [
        bin,
        'bench',
        '--model',
        c.model,
        '--random-init',
        '0',
        '--batch',
        String(c.batch),
        '--prompt',
        String(c.prompt),
        '--new',
        String(c.newTokens),
        '--train-steps',
        String(c.trainSteps),
        '--skip-full',
        '--json',
        ...(peer ? ['--peer', 'torch', '--threads', String(threads), ...(python ? ['--peer-python', python] : [])] : []),
        ...(backend ? ['--backend', backend] : []),
        ...(gemm ? ['--gemm', gemm] : []),
      ];
      process.stderr.write(`bench suite: ${c.name}${repeat > 1 ? ` (${rep + 1}/${repeat})` : ''} …\n`);
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) {
        rows.push({ case: c.name, repeat: rep, error: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-2).join(' | ') });
        continue;
      }
      rows.push({ case: c.name, repeat: rep, ...JSON.parse(r.stdout.trim().split('\n').pop()!) });
    }
  }
  const range = (xs: unknown[], f: (x: number) => string) => {
    const v = xs.filter((x): x is number => typeof x === 'number');
    if (!v.length) return '–';
    const lo = Math.min(...v),
      hi = Math.max(...v);
    return lo === hi ? f(lo) : `${f(lo)}–${f(hi)}`;
  };
  const n = (x: number) => String(Math.round(x));
  const ratio = (x: number) => x.toFixed(2);
  const table = [
    '| case | decode tok/s | torch | ratio | train tok/s | torch | ratio | peak RSS MB | peer BLAS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...SUITE.map((c) => {
      const rs = rows.filter((r) => r.case === c.name && !r.error);
      const failed = rows.filter((r) => r.case === c.name && r.error);
      if (!rs.length) return `| ${c.name} | failed: ${failed[0]?.error} | | | | | | | |`;
      const p = (k: string) => rs.map((r) => ((r.peer ?? {}) as Record<string, unknown>)[k]);
      const q = (k: string) => rs.map((r) => ((r.ratio_vs_peer ?? {}) as Record<string, unknown>)[k]);
      const blas = [...new Set(rs.map((r) => (r.peer as { blas?: { kind?: string } } | undefined)?.blas?.kind ?? '–'))].join(', ');
      return `| ${c.name} | ${range(
        rs.map((r) => r.decode_tokens_per_s),
        n,
      )} | ${range(p('decode_tokens_per_s'), n)} | ${range(q('decode'), ratio)} | ${range(
        rs.map((r) => r.train_tokens_per_s),
        n,
      )} | ${range(p('train_tokens_per_s'), n)} | ${range(q('train'), ratio)} | ${range(
        rs.map((r) => r.peak_rss_mb),
        n,
      )} | ${blas}${failed.length ? ` (${failed.length} failed)` : ''} |`;
    }),
  ].join('\n');
  writeJsonAtomic(out, {
    machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`,
    date: new Date().toISOString(),
    commit: checkoutCommit(),
    repeat,
    // The kit's wasm backend runs one thread (each row's backend_detail says so); the peer `threads` (torch and OpenBLAS).
    peer_threads: peer ? threads : null,
    rows,
  });
  console.log(table);
  console.log(`\n${out}`);
  return rows.some((r) => r.error) ? 1 : 0;
}
