// What one run of each preset needs — the plan's peak memory and its time on this machine's CPU, an H100 and an H200 —
// as the Markdown table in README.md and docs/presets.md. One run is `introllm train --preset P` with the preset's
// method (IntroLLM): its RL steps and its evaluation. The GPU columns and every CPU cell without a committed record are
// `introllm plan`'s ESTIMATES (src/plan/run-plan.ts); a CPU cell is measured where a committed reference
// (results/<preset>/manifest.json) timed that preset's runs, and then names the record. The `paper` and `paper-lite`
// presets are planned on the shape folders of their models (bench/shapes/, config.json only).
//   npx tsx scripts/preset-needs.ts [--json]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExperimentConfig, PRESETS, resolveConfig, setOverrides } from '../src/config';
import { planFor } from '../src/plan/gather';
import { bytesText, duration, RunPlan } from '../src/plan/run-plan';
import { modelDirFor } from '../src/tasks/registry';

/** The presets in the table, and the shape folder standing in for a model the kit does not ship. */
const ROWS: { preset: string; shape?: string }[] = [
  { preset: 'smoke' },
  { preset: 'quick' },
  { preset: 'tiny' },
  { preset: 'small' },
  { preset: 'countdown' },
  { preset: 'known-answer' },
  { preset: 'paper-lite', shape: 'bench/shapes/qwen3-0.6b' },
  { preset: 'paper', shape: 'bench/shapes/qwen3-1.7b' },
];
const DEVICES = ['cpu', 'h100', 'h200'] as const;

/** The keys that set a run's cost: a committed reference counts as a measurement of the preset only where its IntroLLM
 *  run was resolved with the same values (results/countdown, say, was made when its settings were the default). */
const COST_KEYS = [
  'model.dir',
  'task.name',
  'rollout.promptsPerStep',
  'rollout.groupSize',
  'rollout.maxNewTokens',
  'schedule.mode',
  'grpo.epochs',
  'grpo.tempEpochs',
  'train.steps',
  'eval.problems',
  'eval.k',
  'eval.maxNewTokens',
];
const at = (o: unknown, key: string): unknown => key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

/** The committed timing of a preset's IntroLLM runs: each seed's job in the reference's manifest (wall seconds). */
function measured(preset: string, cfg: ExperimentConfig): { seconds: number[]; jobs: number; commit: string; file: string } | null {
  const file = path.join('results', preset, 'manifest.json');
  const configFile = path.join('results', preset, 'config.json');
  if (!fs.existsSync(file) || !fs.existsSync(configFile)) return null;
  const ran = (JSON.parse(fs.readFileSync(configFile, 'utf8')) as { runs?: Record<string, unknown> }).runs?.introllm;
  if (!ran || COST_KEYS.some((k) => JSON.stringify(at(ran, k)) !== JSON.stringify(at(cfg, k)))) return null;
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    sessions: { commit: string; jobs: number; runs: { name: string; code: number; seconds: number }[] }[];
  };
  for (const s of m.sessions) {
    const runs = s.runs.filter((r) => /^introllm seed \d+$/.test(r.name) && r.code === 0);
    if (runs.length) return { seconds: runs.map((r) => r.seconds), jobs: s.jobs, commit: s.commit.slice(0, 7), file };
  }
  return null;
}

const oneRun = (p: RunPlan) => p.time_estimate.train_seconds + (p.time_estimate.eval_seconds ?? 0);
const secondsText = (s: number) => duration(s).replace(/\.0 /, ' ');

function cell(p: RunPlan, measuredText: string | null): string {
  if (!p.fits)
    return `does not fit: ${bytesText(p.peak_bytes)} of ${bytesText(p.limit_bytes)} (${p.backend === 'wasm' ? 'the wasm heap' : `backend ${p.backend}`})`;
  // eval.problems = 0 (every problem of every benchmark): the plan does not count them, so its evaluation has no time.
  const time = measuredText ?? `${secondsText(oneRun(p))}${p.time_estimate.eval_seconds === null ? ' + the evaluation' : ''} (estimate)`;
  return `${bytesText(p.peak_bytes)}; ${time}`;
}

function main(): void {
  const rows = ROWS.map(({ preset, shape }) => {
    if (!(preset in PRESETS)) throw new Error(`no preset '${preset}' in src/config.ts`);
    const cfg = resolveConfig({ preset, overrides: shape ? setOverrides([`model.dir=${shape}`]) : [] });
    const modelDir = modelDirFor(cfg);
    const plans = Object.fromEntries(DEVICES.map((d) => [d, planFor(cfg, { backend: { requested: 'auto' }, modelDir, device: d })])) as Record<
      (typeof DEVICES)[number],
      RunPlan
    >;
    const m = measured(preset, cfg);
    const lo = m && Math.min(...m.seconds);
    const hi = m && Math.max(...m.seconds);
    const measuredText = m
      ? `${Math.round(lo!)}–${Math.round(hi!)} s measured (\`${m.file}\`, ${m.seconds.length} seeds, ${m.jobs} at a time, ${m.commit})`
      : null;
    return { preset, shape, plans, measured: m, measuredText };
  });
  if (process.argv.includes('--json')) {
    console.log(
      JSON.stringify(
        rows.map((r) => ({
          preset: r.preset,
          model: r.shape ?? r.plans.cpu.model.dir,
          measured_cpu: r.measured,
          ...Object.fromEntries(
            DEVICES.map((d) => [
              d,
              {
                fits: r.plans[d].fits,
                peak_bytes: r.plans[d].peak_bytes,
                backend: r.plans[d].backend,
                rollout_rows: r.plans[d].rollout_rows,
                update_rows: r.plans[d].update_rows,
                eval_rows: r.plans[d].eval_rows,
                train_seconds_estimate: r.plans[d].time_estimate.train_seconds,
                eval_seconds_estimate: r.plans[d].time_estimate.eval_seconds,
              },
            ]),
          ),
        })),
        null,
        2,
      ),
    );
    return;
  }
  // As the manifests write it (src/experiments/manifest.ts).
  const memoryGb = Math.round(os.totalmem() / 2 ** 30);
  console.log(
    `| preset | this ${os.cpus().length}-core CPU (${memoryGb} GB): peak; one run | H100: peak; one run (estimate) | H200: peak; one run (estimate) |`,
  );
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) {
    const name = r.shape ? `\`${r.preset}\` (${path.basename(r.shape)} shape)` : `\`${r.preset}\``;
    console.log(`| ${name} | ${cell(r.plans.cpu, r.measuredText)} | ${cell(r.plans.h100, null)} | ${cell(r.plans.h200, null)} |`);
  }
}

main();
