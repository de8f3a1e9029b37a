// `introllm train`: one RL run into --out (config.json, metrics.jsonl, ckpt/, eval.json, plan.json: the run's memory and
// device plan, phases.json: the wall time and peak memory of loading, training and evaluating in the last invocation). Running the same command on the same folder
// resumes it from the last checkpoint.
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../backend';
import { writeJsonAtomic } from '../io/atomic';
import { startPhase } from '../io/rss';
import type { Command } from '../cli';
import { ConfigOverride, ExperimentConfig, resolveConfig } from '../config';
import { METHOD_NAMES, methodOverride } from '../experiments/methods';
import { KitError } from '../errors';
import { requireModelFolder } from '../lm/config';
import { planFor, runningBackend } from '../plan/gather';
import { formatPlan, planRefusal } from '../plan/run-plan';
import { closeRun, evaluateRun, evaluates, openRun, Progress, trainRun } from '../rl/trainer';
import { reportProgress } from '../io/progress';
import { modelDirFor } from '../tasks/registry';
import { FlagSpec, FlagValues, intFlag, parseFlags, requireFlag } from './args';
import { CONFIG_FLAGS, configInputs, configUsage, setLayers } from './config-flags';

/** `introllm train`'s flags. */
export const TRAIN_FLAGS = {
  ...CONFIG_FLAGS,
  method: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  backend: { type: 'string' },
  cores: { type: 'string' },
} as const satisfies FlagSpec;

/** The config a `train` command line runs: its preset < --config FILE < --method < --seed < --set. */
export function trainConfig(f: FlagValues): ExperimentConfig {
  const inputs = configInputs(f);
  const overrides: ConfigOverride[] = [];
  if (f.method !== undefined) overrides.push({ source: `--method ${f.method}`, kind: 'method', value: methodOverride(f.method as string) });
  if (f.seed !== undefined) overrides.push({ source: '--seed', value: { seed: Number(f.seed) } });
  overrides.push(...setLayers(inputs));
  return resolveConfig({ preset: inputs.preset, configFile: inputs.configFile, overrides });
}

export const command: Command = {
  summary: 'Train a temperature policy and/or the token policy with GRPO (resumable).',
  usage:
    `introllm train --out DIR [--method ${METHOD_NAMES.join('|')} (default: the config's controller, introllm)] [--seed S] ${configUsage()} [--backend NAME] [--cores N]\n\n` +
    "  --cores N: the CPU cores this run may use (default: all of this machine's); reproduce gives each of its side-by-side runs its share.\n" +
    "  Values are layered: the kit's defaults < --preset (or the config file's `preset`) < --config FILE < --method < --seed < --set.\n" +
    "  `introllm config` prints the resolved config with each value's source.",
  async run(argv) {
    const f = parseFlags(argv, TRAIN_FLAGS);
    const out = requireFlag(f, 'out');
    const cfg = trainConfig(f);
    const method = (f.method as string | undefined) ?? cfg.controller.name;
    // Wall time and peak resident set of each phase of this invocation, in the run folder as phases.json.
    const phases: Record<string, { seconds: number; peak_rss_mb: number; steps?: number }> = {};
    const timed = async <T>(name: string, fn: () => T | Promise<T>, steps?: () => number): Promise<T> => {
      const ph = startPhase();
      const value = await fn();
      const { ms, peakRssMb } = ph.end();
      phases[name] = { seconds: Math.round(ms) / 1000, peak_rss_mb: peakRssMb, ...(steps ? { steps: steps() } : {}) };
      writeJsonAtomic(path.join(out, 'phases.json'), phases);
      return value;
    };
    // The run's memory and device plan, made once from the started backend and the model's config.json: printed,
    // kept in the run folder (plan.json, rewritten by each invocation), and a run it says cannot fit is refused here,
    // before any weight is loaded.
    await initBackend(f.backend as string | undefined);
    const modelDir = modelDirFor(cfg);
    requireModelFolder(modelDir);
    // --cores: this run's share of the machine's cores when a launcher runs several side by side (reproduce does);
    // the plan resolves device.threads 'auto' to it. Not a config key: it says where the run is, not what it runs.
    const cores = f.cores === undefined ? undefined : intFlag(f, 'cores', os.cpus().length);
    const plan = planFor(cfg, { backend: runningBackend(), modelDir, cores });
    process.stderr.write(`introllm train: plan\n${formatPlan(plan).replace(/^/gm, '  ')}\n`);
    const refusal = planRefusal(plan);
    if (refusal) throw new KitError(refusal);
    const run = await timed('load', () => openRun(cfg, out, plan));
    writeJsonAtomic(path.join(out, 'plan.json'), plan);
    const startStep = run.step;
    if (run.step > 0) process.stderr.write(`introllm train: resuming ${out} after step ${run.step}\n`);
    const progress = new Progress(`train ${method}`, cfg.train.steps, run.step, 1);
    // Under reproduce's job runner, the same progress as lines it reads (src/io/progress.ts).
    reportProgress({ phase: 'train', done: run.step, total: cfg.train.steps, unit: 'steps' });
    await timed(
      'train',
      () =>
        trainRun(run, (rec) => {
          progress.update(rec.step, { reward: rec['train/reward_mean'] as number, tau: rec['policy/tau_mean'] as number, phase: rec.phase as string });
          reportProgress({ phase: 'train', done: rec.step, total: cfg.train.steps, unit: 'steps' });
        }),
      () => run.step - startStep,
    );
    if (evaluates(run)) {
      let evalBar: Progress | null = null;
      const ev = await timed('eval', () =>
        evaluateRun(run, (done, total) => {
          reportProgress({ phase: 'eval', done, total, unit: 'problems' });
          evalBar ??= new Progress('eval', total, done, 1);
          if (done > 0) evalBar.update(done, {});
        }),
      );
      const sets =
        ev.sets &&
        Object.fromEntries(
          Object.entries(ev.sets).map(([name, s]) => [name, { accuracy: s.report.avg, pass_at_k: { [s.report.k]: s.report.pass }, problems: s.problems }]),
        );
      console.log(
        JSON.stringify({
          out,
          method,
          seed: cfg.seed,
          steps: run.step,
          accuracy: ev.report.avg,
          pass_at_k: { [ev.report.k]: ev.report.pass },
          tau_mean: ev.tauMean,
          gate_rate: ev.gateRate,
          ...(sets ? { sets } : {}),
        }),
      );
    }
    closeRun(run);
    return 0;
  },
};
