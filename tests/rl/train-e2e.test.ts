// `introllm train` end to end on the kit's tiny SFT model (the smoke preset's, data/models/tiny-guess): the run folder's files, the
// same seed giving the same metrics, a SIGKILL at an arbitrary moment followed by a resume giving exactly the
// metrics of an uninterrupted run, and reward rising on a fixed pool of prompts.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventFilesIn, readEventFile } from '../../src/io/tfevents';
import { tempDir } from '../helpers/kit';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'introllm.js');
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const common = ['--preset', 'smoke', '--backend', 'wasm', '--set', 'eval.problems=0'];
const train = (out: string, ...extra: string[]) => trainEnv({}, out, ...extra);
const trainEnv = (env: Record<string, string>, out: string, ...extra: string[]) =>
  spawnSync(process.execPath, [BIN, 'train', '--out', out, ...common, ...extra], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });

/** Starts `train` into `out` and SIGKILLs it once two steps are logged (a moment that falls anywhere inside step 3). */
async function killAfterTwoSteps(out: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'train', '--out', out, ...common, ...args], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, ...env } });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      const f = path.join(out, 'metrics.jsonl');
      if (fs.existsSync(f) && fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length >= 2) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the run ended before it could be killed'));
    });
  });
  await new Promise((r) => child.on('exit', r));
}

/** metrics.jsonl without the timing and memory keys (those differ from run to run). */
function metrics(out: string): Record<string, unknown>[] {
  return fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const r = JSON.parse(l);
      for (const k of Object.keys(r)) if (k.startsWith('time/') || k.startsWith('mem/')) delete r[k];
      return r;
    });
}

describe('introllm train', () => {
  it('writes config, metrics and a checkpoint; the same seed gives the same metrics', () => {
    const a = path.join(dir, 'a');
    const r = train(a, '--method', 'introllm', '--seed', '3', '--set', 'train.steps=3');
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readdirSync(a).sort()).toEqual(['ckpt', 'config.json', 'metrics.jsonl', 'phases.json', 'plan.json', 'tb']);
    // The run's plan (src/plan/run-plan.ts), printed and kept: the whole batch at once, evaluation chunks of 64 rows.
    const plan = JSON.parse(fs.readFileSync(path.join(a, 'plan.json'), 'utf8'));
    expect([plan.fits, plan.runnable, plan.rollout_rows, plan.update_rows, plan.eval_rows_max]).toEqual([
      true,
      true,
      plan.rollout_batch,
      plan.rollout_batch,
      64,
    ]);
    expect(r.stderr).toContain('introllm train: plan');
    // Each phase's wall time and peak memory; every step's rollout and update peaks.
    const phases = JSON.parse(fs.readFileSync(path.join(a, 'phases.json'), 'utf8'));
    expect(Object.keys(phases)).toEqual(['load', 'train']);
    expect(phases.train.steps).toBe(3);
    for (const p of Object.values(phases) as { seconds: number; peak_rss_mb: number }[]) expect(p.seconds > 0 && p.peak_rss_mb > 50).toBe(true);
    const cfg = JSON.parse(fs.readFileSync(path.join(a, 'config.json'), 'utf8'));
    expect(cfg.controller.name).toBe('introllm');
    expect(cfg.seed).toBe(3);
    const raw = JSON.parse(fs.readFileSync(path.join(a, 'metrics.jsonl'), 'utf8').split('\n')[0]);
    for (const k of ['mem/rollout_peak_rss_mb', 'mem/update_peak_rss_mb']) expect(raw[k], k).toBeGreaterThan(50);
    expect(raw['mem/update_peak_rss_mb']).toBeLessThanOrEqual(phases.train.peak_rss_mb);
    const m = metrics(a);
    expect(m.map((x) => x.step)).toEqual([1, 2, 3]);
    expect(m.map((x) => x.phase)).toEqual(['sequential', 'sequential', 'sequential']);
    for (const x of m) {
      for (const k of ['train/reward_mean', 'policy/tau_mean', 'policy/gate_rate', 'policy/entropy_mean']) expect(Number.isFinite(x[k]), k).toBe(true);
    }
    const b = path.join(dir, 'b');
    expect(train(b, '--method', 'introllm', '--seed', '3', '--set', 'train.steps=3').status).toBe(0);
    expect(metrics(b)).toEqual(m);
    const c = path.join(dir, 'c');
    expect(train(c, '--method', 'introllm', '--seed', '4', '--set', 'train.steps=3').status).toBe(0);
    expect(metrics(c)).not.toEqual(m);
    // Running again on a finished folder changes nothing; another config there is refused.
    expect(train(a, '--method', 'introllm', '--seed', '3', '--set', 'train.steps=3').status).toBe(0);
    expect(metrics(a)).toEqual(m);
    const refused = train(a, '--method', 'edt', '--seed', '3', '--set', 'train.steps=3');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('holds a run with a different config');
  });

  it('after a SIGKILL mid-run, the resumed run writes exactly the metrics of an uninterrupted run', async () => {
    const args = ['--method', 'tampo', '--seed', '5', '--set', 'train.steps=5'];
    const whole = path.join(dir, 'whole');
    expect(train(whole, ...args).status).toBe(0);
    const killed = path.join(dir, 'killed');
    await killAfterTwoSteps(killed, args);
    const resumed = train(killed, ...args);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming');
    expect(metrics(killed)).toEqual(metrics(whole));
    // Its TensorBoard events (tb/): every step once, across the killed process's event file and the resume's.
    const steps = eventFilesIn(path.join(killed, 'tb'))
      .flatMap((f) => readEventFile(f).events)
      .map((e) => e.step)
      .filter((s) => s > 0);
    expect(steps).toEqual([1, 2, 3, 4, 5]);
  });

  it("θ's Adam in host memory (config key device.thetaAdam=host): step 1 as on the device, and a killed run resumes to exactly the uninterrupted run's metrics", async () => {
    const host = {};
    const args = ['--method', 'fixed-1.0', '--seed', '6', '--set', 'train.steps=4', '--set', 'device.thetaAdam=host'];
    const whole = path.join(dir, 'host-whole');
    const r = trainEnv(host, whole, ...args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("θ's optimiser state: host memory (HostAdam)");
    expect(JSON.parse(fs.readFileSync(path.join(whole, 'plan.json'), 'utf8')).theta_state).toBe('host');
    const dev = path.join(dir, 'device-whole');
    expect(trainEnv({}, dev, ...args.slice(0, -1), 'device.thetaAdam=device').status).toBe(0);
    // The same rollout at step 1 (θ is the same), so the same loss and, summed in another order, the same norm.
    const [h1, d1] = [metrics(whole)[0], metrics(dev)[0]];
    expect(h1['train/reward_mean']).toBe(d1['train/reward_mean']);
    expect(h1['loss_token/loss']).toBe(d1['loss_token/loss']);
    expect(h1['grad/theta_norm'] as number).toBeCloseTo(d1['grad/theta_norm'] as number, 5);
    expect(h1['grad/theta_norm'] as number).toBeGreaterThan(0);
    const killed = path.join(dir, 'host-killed');
    await killAfterTwoSteps(killed, args, host);
    const resumed = trainEnv(host, killed, ...args);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming');
    expect(metrics(killed)).toEqual(metrics(whole));
  });

  it('a step in pieces (rollout chunks of 3 rows, update micro-batches of 2): the plan records them, step 1 updates as the whole batch does, and a killed run resumes exactly', async () => {
    const base = [
      '--method',
      'introllm',
      '--seed',
      '7',
      '--set',
      'train.steps=4',
      '--set',
      'grpo.phiDiagnostics=true',
      '--set',
      'schedule.mode=alternate',
      '--set',
      'schedule.tokenSteps=1',
      '--set',
      'schedule.tempSteps=1',
    ];
    const args = [...base, '--set', 'rollout.chunkRows=3', '--set', 'grpo.microBatchRows=2'];
    const pieces = path.join(dir, 'pieces-whole');
    const r = train(pieces, ...args);
    expect(r.status, r.stderr).toBe(0);
    const plan = JSON.parse(fs.readFileSync(path.join(pieces, 'plan.json'), 'utf8'));
    expect([plan.runnable, plan.rollout_rows, plan.update_rows]).toEqual([true, 3, 2]);
    expect(plan.rollout_batch).toBeGreaterThan(3);
    // Whole-batch rollouts with micro-batched updates: step 1 (a temperature step on the same rollout) and step 2 (a
    // token step, after the same φ update) agree with the whole batch's to float tolerance.
    const micro = path.join(dir, 'micro-only');
    expect(train(micro, ...base, '--set', 'grpo.microBatchRows=2').status).toBe(0);
    const whole = path.join(dir, 'pieces-reference');
    expect(train(whole, ...base).status).toBe(0);
    const [m, w] = [metrics(micro), metrics(whole)];
    for (const k of ['train/reward_mean', 'train/tokens']) expect(m[0][k], k).toBe(w[0][k]);
    for (const step of [0, 1]) {
      for (const k of ['loss_temp/loss', 'loss_token/loss', 'grad/phi_norm', 'grad/theta_norm', 'diag/phi_half_cosine']) {
        if (w[step][k] === null || w[step][k] === undefined) continue;
        expect(m[step][k] as number, `step ${step + 1} ${k}`).toBeCloseTo(w[step][k] as number, 4);
      }
    }
    const killed = path.join(dir, 'pieces-killed');
    await killAfterTwoSteps(killed, args);
    const resumed = train(killed, ...args);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming');
    expect(metrics(killed)).toEqual(metrics(pieces));
  });

  it('reward rises above its starting value on a fixed pool of prompts', () => {
    const out = path.join(dir, 'learn');
    // Two prompts, 8 samples each, every step: the SFT model solves them only now and then at first.
    const r = train(
      out,
      '--method',
      'fixed-1.0',
      '--seed',
      '0',
      '--set',
      'task.trainPool=2',
      '--set',
      'rollout.promptsPerStep=2',
      '--set',
      'rollout.groupSize=8',
      '--set',
      'train.steps=12',
      '--set',
      'optim.lrToken=0.0005',
      '--set',
      'train.checkpointEvery=12',
    );
    expect(r.status, r.stderr).toBe(0);
    const rewards = metrics(out).map((x) => x['train/reward_mean'] as number);
    const first = (rewards[0] + rewards[1]) / 2;
    const last = (rewards[9] + rewards[10] + rewards[11]) / 3;
    expect(last, `rewards ${rewards.map((x) => x.toFixed(2)).join(' ')}`).toBeGreaterThan(first);
  });
});
