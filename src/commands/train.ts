// `introllm train`: one RL run into --out (config.json, metrics.jsonl, ckpt/, eval.json). Running the same command on
// the same folder resumes it from the last checkpoint.
import { initBackend } from '../backend';
import type { Command } from '../cli';
import { parseSetting, resolveConfig } from '../config';
import { methodOverride } from '../experiments/methods';
import { closeRun, evaluateRun, evaluates, openRun, Progress, trainRun } from '../rl/trainer';
import { parseFlags, requireFlag } from './args';

export const command: Command = {
  summary: 'Train a temperature policy and/or the token policy with GRPO (resumable).',
  usage: 'introllm train --preset smoke|tiny|small|paper --method introllm|fixed-1.0|edt|ead|tampo|… --seed S --out DIR [--config FILE] [--set key=value …] [--backend NAME]',
  async run(argv) {
    const f = parseFlags(argv, {
      preset: { type: 'string', default: 'tiny' }, method: { type: 'string', default: 'introllm' }, seed: { type: 'string' },
      out: { type: 'string' }, config: { type: 'string' }, set: { type: 'string', multiple: true }, backend: { type: 'string' },
    });
    const out = requireFlag(f, 'out');
    const overrides = [{ source: `--method ${f.method}`, value: methodOverride(f.method as string) }];
    if (f.seed !== undefined) overrides.push({ source: '--seed', value: { seed: Number(f.seed) } as never });
    for (const s of (f.set as string[] | undefined) ?? []) overrides.push({ source: `--set ${s}`, value: parseSetting(s) as never });
    const cfg = resolveConfig({ preset: f.preset as string, configFile: f.config as string | undefined, overrides });
    await initBackend(f.backend as string | undefined);
    const run = await openRun(cfg, out);
    if (run.step > 0) process.stderr.write(`introllm train: resuming ${out} after step ${run.step}\n`);
    const progress = new Progress(`train ${f.method}`, cfg.train.steps, run.step, 1);
    await trainRun(run, (rec) => progress.update(rec.step, {
      reward: rec['train/reward_mean'] as number, tau: rec['policy/tau_mean'] as number, phase: rec.phase as string,
    }));
    if (evaluates(run)) {
      const ev = evaluateRun(run);
      const sets = ev.sets && Object.fromEntries(Object.entries(ev.sets).map(([name, s]) => [name, { accuracy: s.report.avg, pass_at_k: { [s.report.k]: s.report.pass }, problems: s.problems }]));
      console.log(JSON.stringify({ out, method: f.method, seed: cfg.seed, steps: run.step, accuracy: ev.report.avg, pass_at_k: { [ev.report.k]: ev.report.pass }, tau_mean: ev.tauMean, gate_rate: ev.gateRate, ...(sets ? { sets } : {}) }));
    }
    closeRun(run);
    return 0;
  },
};
