// The run plan (src/plan/run-plan.ts): its arithmetic against hand-derived numbers, the paper preset on the
// Qwen3-1.7B shape fitting an H100 and an H200 by the plan's own chunk sizes, refusals that name the overrides, the
// paper-lite preset fitting both in hours, the tiny preset's plan leaving today's behaviour as it is, and
// `introllm plan --json`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentConfig, resolveConfig, resolveConfigSources, setOverrides, withConfigDefaults } from '../../src/config';
import { openRunDir } from '../../src/train/run-dir';
import { KitError } from '../../src/errors';
import { loadHfConfig } from '../../src/lm/config';
import { deviceFromAdapter, gatherPlanInput, planFor } from '../../src/plan/gather';
import {
  CHUNKING_SUPPORT,
  deviceSpec,
  GPU_RESERVE_FRACTION,
  GPU_RUNTIME_BYTES,
  kvBytesPerPosition,
  makeRunPlan,
  modelSizes,
  planRefusal,
  RunPlan,
  sharedPromptRows,
  WASM_EVAL_KV_BYTES,
  WASM_HEAP_BYTES,
} from '../../src/plan/run-plan';
import { createBenchmarkTask } from '../../src/tasks/benchmark-task';
import { tempDir } from '../helpers/kit';

const SHAPE = 'bench/shapes/qwen3-1.7b';
const paper = (...sets: string[]) => resolveConfig({ preset: 'paper', overrides: setOverrides([`model.dir=${SHAPE}`, ...sets]) });
const on = (cfg: ExperimentConfig, device: string, o: { backend?: string; chunking?: typeof CHUNKING_SUPPORT } = {}): RunPlan =>
  makeRunPlan({
    ...gatherPlanInput(cfg, { backend: { requested: o.backend }, device, hostBytes: 24e9, cores: 2 }),
    ...(o.chunking ? { chunking: o.chunking } : {}),
  });

describe("the plan's arithmetic", () => {
  it('Qwen3-1.7B: 229,376 B of KV cache per row and position, 1,720,574,976 parameters, 6.88 GB of float32 weights', () => {
    const c = loadHfConfig(SHAPE);
    // 2 (k, v) × 28 layers × 8 KV heads × head_dim 128 × 4 bytes.
    expect(kvBytesPerPosition(c)).toBe(2 * 28 * 8 * 128 * 4);
    expect(kvBytesPerPosition(c)).toBe(229376);
    // Embedding 151936 × 2048 (tied: no LM head) + 28 × (q 2048² + k, v 1024 × 2048 each + o 2048² + MLP 3 × 6144 × 2048
    // + q/k norms 2 × 128 + two RMSNorms 2 × 2048) + the final norm 2048.
    const layer = 2048 * 2048 + 2 * 1024 * 2048 + 2048 * 2048 + 3 * 6144 * 2048 + 2 * 128 + 2 * 2048;
    expect(modelSizes(c).params).toBe(151936 * 2048 + 28 * layer + 2048);
    expect(modelSizes(c).params).toBe(1720574976);
    expect(modelSizes(c).weightBytes).toBe(4 * 1720574976);
    expect(modelSizes(c).largestBytes).toBe(4 * 151936 * 2048);
    // The tiny model: 2 × 4 layers × 2 KV heads × 24 × 4 = 1,536 B.
    expect(kvBytesPerPosition(loadHfConfig('data/models/tiny-guess'))).toBe(1536);
  });

  it("paper's whole rollout batch would need 256 rows × (512 + 4096) positions × 229,376 B = 270.6 GB of KV cache", () => {
    const p = on(paper(), 'h200');
    expect(p.rollout_batch).toBe(32 * 8);
    expect(p.prompt_tokens).toBe(512);
    expect(256 * 4608 * 229376).toBe(270582939648);
    const rollout = p.phases.find((x) => x.phase === 'rollout')!;
    expect(rollout.positions).toBe(4608);
    expect(rollout.memory.kv_cache).toBe(p.rollout_rows * 4608 * 229376);
  });

  it("the update's forward computes a prompt once per block of its rows: whole groups, a part of one group, or (groups cut unevenly) every row", () => {
    expect(sharedPromptRows(64, 16)).toBe(16);
    expect(sharedPromptRows(4, 16)).toBe(4);
    expect(sharedPromptRows(6, 4)).toBe(1);
    expect(sharedPromptRows(8, 1)).toBe(1);
  });

  it('devices: h100 80 GB, h200 141 GB, a number of GB, cpu = this machine; unknown names are an error naming the flag', () => {
    expect(deviceSpec('h100', { hostBytes: 1, where: 'x' }).bytes).toBe(80e9);
    expect(deviceSpec('h200', { hostBytes: 1, where: 'x' }).bytes).toBe(141e9);
    expect(deviceSpec('40', { hostBytes: 1, where: 'x' })).toMatchObject({ bytes: 40e9, kind: 'gpu' });
    expect(deviceSpec(64, { hostBytes: 1, where: 'x', cpuBackend: true })).toMatchObject({ bytes: 64e9, kind: 'cpu' });
    expect(deviceSpec('cpu', { hostBytes: 24e9, where: 'x' })).toMatchObject({ bytes: 24e9, kind: 'cpu', source: 'os.totalmem()' });
    expect(() => deviceSpec('a100', { hostBytes: 1, where: '--device a100' })).toThrow(
      /--device a100: unknown device "a100"; valid: cpu, h100, h200, or a number of GB/,
    );
    expect(deviceFromAdapter('NVIDIA H100 80GB HBM3')).toBe(80);
    expect(deviceFromAdapter('nvidia hopper NVIDIA H200')).toBe('h200');
    expect(deviceFromAdapter('llvmpipe (LLVM 19.1.7, 256 bits)')).toBe('cpu');
    expect(deviceFromAdapter('some card')).toBeNull();
  });

  it('config keys: numbers or auto, checked with the source named', () => {
    expect(paper('rollout.chunkRows=16').rollout.chunkRows).toBe(16);
    expect(() => paper('rollout.chunkRows=0')).toThrow(/--set rollout.chunkRows=0: config key 'rollout.chunkRows' must be a positive integer or 'auto', got 0/);
    expect(() => paper('eval.kvBudgetBytes=lots')).toThrow(/config key 'eval.kvBudgetBytes' must be a positive number of bytes or 'auto', got "lots"/);
    expect(() => paper('device.memory=tpu')).toThrow(/config key 'device.memory' must be 'auto', 'cpu', 'h100', 'h200' or a number of GB, got "tpu"/);
    expect(() => paper('device.gemm=fast')).toThrow(/config key 'device.gemm' must be one of auto, batched, all, tfjs, got "fast"/);
  });
});

describe('paper on the Qwen3-1.7B shape', () => {
  it("fits an H100 with the plan's chunks: 32-row rollout chunks, 2-row update micro-batches, 24-row evaluation chunks", () => {
    const p = on(paper(), 'h100');
    expect(p.fits).toBe(true);
    expect(p.backend).toBe('webgpu');
    expect(p.theta_state).toBe('device');
    expect(p.device_bytes).toBe(80e9);
    expect(p.limit_bytes).toBe(80e9 - GPU_RESERVE_FRACTION * 80e9 - GPU_RUNTIME_BYTES - 1024 * 2 ** 20);
    expect([p.rollout_rows, p.update_rows, p.eval_rows]).toEqual([32, 2, 24]);
    for (const ph of p.phases) expect(ph.memory.total, ph.phase).toBeLessThanOrEqual(p.limit_bytes);
    expect(p.peak_bytes).toBeLessThanOrEqual(p.limit_bytes);
    // A rollout chunk: weights 6.88 GB + Adam's two moments 13.76 GB + 32 × 4608 × 229,376 B of KV cache …
    const r = p.phases[0];
    expect(r.memory.weights).toBe(4 * 1720574976);
    expect(r.memory.optimiser).toBe(2 * 4 * 1720574976);
    expect(r.memory.kv_cache).toBe(32 * 4608 * 229376);
    // … and one more group of 8 rows would not fit: 40 rows are not a divisor of 256 rows in whole groups, 64 are too many.
    expect(64 * 4608 * 229376 + r.memory.weights + r.memory.optimiser).toBeGreaterThan(p.limit_bytes);
    // The update's θ gradients join the moments (3 × the weights); its logits: 5 copies of 2 × 4096 × 151,936 × 4 B.
    const u = p.phases[1];
    expect(u.memory.optimiser).toBe(3 * 4 * 1720574976);
    expect(u.memory.logits).toBe(5 * 2 * 4096 * 151936 * 4);
    expect(p.time_estimate.model).toContain('estimates, not measurements');
  });

  it('fits an H200 with larger chunks: 64, 4 and 48 rows', () => {
    const p = on(paper(), 'h200');
    expect(p.fits).toBe(true);
    expect([p.rollout_rows, p.update_rows, p.eval_rows]).toEqual([64, 4, 48]);
    for (const ph of p.phases) expect(ph.memory.total, ph.phase).toBeLessThanOrEqual(p.limit_bytes);
  });

  it('is runnable: the trainer runs rollout chunks and update micro-batches', () => {
    expect(CHUNKING_SUPPORT).toEqual({ rollout: true, update: true, eval: true });
    const p = on(paper(), 'h100');
    expect([p.fits, p.runnable, p.pending]).toEqual([true, true, []]);
    expect(planRefusal(p)).toBeNull();
  });

  it('refuses, naming them, chunk sizes a code path does not honour', () => {
    const p = on(paper(), 'h100', { chunking: { rollout: false, update: false, eval: true } });
    expect(p.runnable).toBe(false);
    expect(p.pending.join('\n')).toContain("rollout chunks of 32 of the step's 256 rows (rollout.chunkRows): the trainer rolls out the whole batch at once");
    expect(p.pending.join('\n')).toContain('update micro-batches of 2 of 256 rows (grpo.microBatchRows)');
    expect(planRefusal(p)).toContain('fits only with chunk sizes the trainer does not run yet');
    const later = on(paper(), 'h100', { chunking: { rollout: true, update: true, eval: true } });
    expect(later.runnable).toBe(true);
    expect(planRefusal(later)).toBeNull();
  });

  it('does not fit a 24 GB card, and the refusal names what does not fit and the overrides that would make it fit', () => {
    const p = on(paper(), '24');
    expect(p.fits).toBe(false);
    expect(p.reason).toContain('an update micro-batch of 1 row × 4608 positions needs');
    expect(p.overrides!.length).toBeGreaterThan(0);
    const msg = planRefusal(p)!;
    expect(msg).toMatch(/^the plan says this run does not fit 24 GB: /);
    expect(msg).toMatch(/Overrides that would make it fit: .*--set rollout\.maxNewTokens=\d+/);
    // Each override named does make it fit.
    for (const o of p.overrides!.filter((x) => !x.startsWith('--'))) {
      const sets = o.split(' ').filter((x) => x.includes('='));
      expect(on(paper(...sets), '24').fits, o).toBe(true);
    }
  });

  it('a chunk size fixed in the config that does not fit is refused, with auto as the override', () => {
    const p = on(paper('rollout.chunkRows=128'), 'h100');
    expect(p.fits).toBe(false);
    expect(p.reason).toMatch(/^a rollout chunk of 128 rows × 4608 positions needs \d+\.\d+ GB of the h100's 80\.00 GB less/);
    expect(p.overrides).toContain('rollout.chunkRows=auto');
    expect(planRefusal(p)).toContain('--set rollout.chunkRows=auto');
  });

  it("with θ's optimiser state asked for on the host the device holds the weights once and the largest tensor", () => {
    const p = on(paper('device.thetaAdam=host'), 'h100');
    expect(p.theta_state).toBe('host');
    expect(p.phases[0].memory.optimiser).toBe(0);
    expect(p.phases[1].memory.optimiser).toBe(4 * 151936 * 2048);
  });
});

describe('the paper-lite preset', () => {
  const lite = (...sets: string[]) => resolveConfigSources({ preset: 'paper-lite', overrides: setOverrides(sets) });
  // The keys in which paper-lite is smaller than paper; everything else (task, benchmarks, prompt, k, learning rates,
  // group size, schedule) is paper's.
  const SIZE_KEYS = ['model.dir', 'rollout.promptsPerStep', 'rollout.maxNewTokens', 'train.steps', 'eval.problems', 'eval.maxNewTokens'];

  it('resolves: every key it sets is a valid config key, and it differs from paper only in size', () => {
    const r = lite(); // an unknown key, a wrong type or an impossible value would throw here
    expect(
      Object.entries(r.sources)
        .filter(([, s]) => s.label === 'preset paper-lite')
        .map(([k]) => k),
    ).toEqual(expect.arrayContaining(SIZE_KEYS));
    type Tree = Record<string, Record<string, unknown>>;
    const paperCfg = resolveConfig({ preset: 'paper' }) as unknown as Tree;
    const liteCfg = structuredClone(r.config) as unknown as Tree;
    for (const key of SIZE_KEYS) {
      const [section, leaf] = key.split('.');
      expect(liteCfg[section][leaf], key).not.toEqual(paperCfg[section][leaf]);
      liteCfg[section][leaf] = paperCfg[section][leaf];
    }
    expect(liteCfg).toEqual(paperCfg);
    expect(r.config.task.evalBenchmarks).toEqual(['aime24', 'amc23', 'math500', 'minerva_math', 'olympiadbench', 'omni_math_rule']);
  });

  it('each benchmark has at least eval.problems problems, so the plan counts the evaluation exactly', () => {
    const { config } = lite();
    const sets = createBenchmarkTask(config.task).evalSets!(config.eval.problems);
    expect(sets.map((s) => s.problems.length)).toEqual(config.task.evalBenchmarks.map(() => config.eval.problems));
  });

  for (const shape of ['bench/shapes/qwen3-1.7b', 'bench/shapes/qwen3-0.6b']) {
    it(`on the ${path.basename(shape)} shape fits an H100 and an H200, one run estimated at hours, not days`, () => {
      for (const device of ['h100', 'h200']) {
        const p = on(lite(`model.dir=${shape}`).config, device);
        expect(p.fits, `${shape} on ${device}: ${p.reason}`).toBe(true);
        expect(p.peak_bytes).toBeLessThanOrEqual(p.limit_bytes);
        expect(p.phases.find((ph) => ph.phase === 'eval')!.of).toBe(30 * 8 * 6);
        const hours = (p.time_estimate.train_seconds + p.time_estimate.eval_seconds!) / 3600;
        expect(hours, `${shape} on ${device}`).toBeGreaterThan(1);
        expect(hours, `${shape} on ${device}`).toBeLessThan(8);
      }
    });
  }
});

describe('the tiny preset', () => {
  it('on this kind of machine (2 cores, 24 GB, wasm): whole batches, 64 evaluation rows and 768 MiB of KV budget as before, 2 runs at a time', () => {
    const p = on(resolveConfig({ preset: 'tiny' }), 'cpu', { backend: 'wasm' });
    expect(p.fits && p.runnable).toBe(true);
    expect(p.backend).toBe('wasm');
    expect(p.gemm).toBe('batched');
    expect(p.limit_bytes).toBe(WASM_HEAP_BYTES);
    expect([p.rollout_rows, p.update_rows]).toEqual([64, 64]);
    expect(p.eval_rows_max).toBe(64);
    expect(p.eval_kv_budget_bytes).toBe(WASM_EVAL_KV_BYTES);
    expect(WASM_EVAL_KV_BYTES).toBe(768 * 2 ** 20);
    expect(p.jobs).toBe(2);
    expect(p.pending).toEqual([]);
  });

  it("a bigger model on wasm: the heap decision of the kit (route all, θ's state on the host) is the plan's", () => {
    const c = resolveConfig({
      preset: 'paper',
      overrides: setOverrides(['model.dir=bench/shapes/qwen3-0.6b', 'rollout.promptsPerStep=1', 'rollout.maxNewTokens=16', 'eval.maxNewTokens=16']),
    });
    const p = makeRunPlan({ ...gatherPlanInput(c, { backend: { requested: 'wasm' }, hostBytes: 64e9, cores: 2, promptTokens: 32 }) });
    expect([p.backend, p.gemm, p.theta_state]).toEqual(['wasm', 'all', 'host']);
    expect(p.notes.join('\n')).toContain("θ's gradients and Adam's moments in host memory");
  });
});

describe("run folders made before the plan's config keys", () => {
  it('resume: the keys they lack are taken at their defaults, and a real difference is still refused', () => {
    const dir = tempDir('plan-resume-');
    const cfg = resolveConfig({ preset: 'tiny' });
    const { device: _device, ...older } = structuredClone(cfg) as unknown as Record<string, Record<string, unknown>>;
    delete older.rollout.chunkRows;
    delete older.grpo.microBatchRows;
    delete older.eval.chunkRows;
    delete older.eval.kvBudgetBytes;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(older));
    expect(() => openRunDir(dir, cfg)).toThrow(/holds a run with a different config \(rollout.chunkRows: undefined there, "auto" now\)/);
    expect(openRunDir(dir, cfg, { fillMissing: withConfigDefaults })).toBe(true);
    expect(() => openRunDir(dir, { ...cfg, seed: 1 }, { fillMissing: withConfigDefaults })).toThrow(/seed: 0 there, 1 now/);
  });
});

describe('resolving the device', () => {
  it('a GPU backend asked for without a device is an error naming the key', () => {
    expect(() => planFor(resolveConfig({ preset: 'tiny' }), { backend: { requested: 'webgpu' } })).toThrow(KitError);
    expect(() => planFor(resolveConfig({ preset: 'tiny' }), { backend: { requested: 'webgpu' } })).toThrow(
      /set config key 'device.memory' \(h100, h200 or a number of GB\)/,
    );
    expect(() => planFor(resolveConfig({ preset: 'tiny' }), { backend: { requested: 'wasm' }, device: 'h100' })).toThrow(
      /backend 'wasm' runs on the CPU, but the device is a GPU \(h100\)/,
    );
  });
});

describe('introllm plan', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/introllm.js', 'plan', ...args], { encoding: 'utf8' });
  it('--json: one object with fits, device_bytes, peak_bytes, rollout_rows, update_rows, eval_rows and phases', () => {
    const r = cli('--preset', 'paper', '--set', `model.dir=${SHAPE}`, '--device', 'h100', '--json');
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    for (const k of ['fits', 'device_bytes', 'peak_bytes', 'rollout_rows', 'update_rows', 'eval_rows', 'phases']) expect(p, k).toHaveProperty(k);
    expect(p.fits).toBe(true);
    expect(p.device_bytes).toBe(80e9);
    expect(p.phases.map((x: { phase: string }) => x.phase)).toEqual(['rollout', 'update', 'eval']);
    expect(p.reason).toBeUndefined();
  }, 60_000);

  it('a run that does not fit: exit status 1, reason and overrides in the JSON; the text says DOES NOT FIT', () => {
    const r = cli('--preset', 'paper', '--set', `model.dir=${SHAPE}`, '--device', '24', '--json');
    expect(r.status).toBe(1);
    const p = JSON.parse(r.stdout);
    expect(p.fits).toBe(false);
    expect(typeof p.reason).toBe('string');
    expect(p.overrides.length).toBeGreaterThan(0);
    const t = cli('--preset', 'paper', '--set', `model.dir=${SHAPE}`, '--device', 'h200');
    expect(t.stdout).toContain('fits');
    expect(t.stdout).toContain('KV cache 229,376 B per row and position');
  }, 60_000);

  it('bad input names the flag', () => {
    expect(cli('--device', 'tpu').stderr).toContain('--device tpu: unknown device "tpu"');
    expect(cli('--prompt-tokens', 'x').stderr).toContain("--prompt-tokens must be a positive integer, got 'x'");
    expect(cli('--preset', 'paper').stderr).toContain("model folder models/Qwen3-1.7B not found (no config.json; config key 'model.dir')");
  }, 60_000);
});

describe('introllm train refuses a run the plan says cannot fit, before loading anything', () => {
  it('names what does not fit and the overrides, and leaves no run folder', () => {
    const dir = tempDir('plan-refuse-');
    const out = path.join(dir, 'run');
    // On a 0.35 GB machine (0.28 GB usable less 0.27 GB for the process) not even one row of the tiny preset's update fits.
    const r = spawnSync(process.execPath, ['bin/introllm.js', 'train', '--preset', 'tiny', '--out', out, '--backend', 'cpu', '--set', 'device.memory=0.35'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'introllm train: the plan says this run does not fit cpu (0.35 GB): an update micro-batch of 1 row × 128 positions needs 0.02 GB',
    );
    // (the recorded head inputs, 64 rows × N tokens × 96 floats, share the machine's memory with the tensors)
    expect(r.stderr).toContain('Overrides that would make it fit: --set rollout.maxNewTokens=9');
    expect(fs.existsSync(out)).toBe(false);
  }, 60_000);

  it('a machine smaller than the process itself: the plan says so instead of a negative budget', () => {
    const p = makeRunPlan({
      ...gatherPlanInput(resolveConfig({ preset: 'tiny' }), { backend: { requested: 'cpu' }, device: '0.2', hostBytes: 24e9, cores: 2 }),
    });
    expect(p.fits).toBe(false);
    expect(p.reason).toContain("80% of this machine's 0.20 GB less 0.27 GB for the process leaves no memory for the run");
  });
});
