// The known-answer study (`introllm known-answer`): can the kit's GRPO update of the temperature head, from the default
// initialisation, learn a per-token rule whose answer is known? On the known-answer task (src/tasks/known-answer.ts)
// each token class k has a closed-form optimal temperature τ*_k and the head sees the class in h_t. For every seed the
// preset's run trains φ only (θ is a constructed model, frozen), and the head's τ on each class is measured on the
// task's test problems before training (the freshly initialised head: the same seed gives the same head) and after,
// with a 95% bootstrap CI over problems. The study passes when, on every seed, every class's mean τ ends on the side
// of its start on which τ*_k lies, with a CI that excludes the start, and the classes' end CIs are apart and ordered
// as their τ*.
//
// Files under the output folder: runs/seed-<s>/ (the train run: config.json, metrics.jsonl, ckpt/) and its
// measure.json (written atomically when the seed is done, so a killed study resumes with the seeds that finished),
// summary.json, and figures/tau-by-class.{html,png}.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { controllerOptions, ExperimentConfig, resolveConfig, setOverrides } from '../config';
import { KitError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { Decoder } from '../lm/model';
import { Tokenizer } from '../lm/tokenizer';
import { knownAnswerFigure, writeFigures } from '../plots';
import { TemperatureController } from '../policy/types';
import { Rng } from '../rng';
import { completionIds, rollout } from '../rl/rollout';
import { problemPromptIds } from '../rl/sft';
import { closeRun, controllerFor, openRun, trainRun } from '../rl/trainer';
import { classNames, successProbability } from '../tasks/known-answer';
import { Problem, Task } from '../tasks/types';
import { methodOverride } from './methods';
import { readMetrics } from './run-files';

export interface KnownAnswerOptions {
  /** Output folder. */
  out: string;
  seeds: number[];
  /** `key=value` config overrides (as --set) on the 'known-answer' preset. */
  sets: string[];
  /** A config file (JSON or YAML) resolved after the 'known-answer' preset, before the method and `sets`. */
  configFile?: string;
  /** Test problems and samples per problem of the τ measurement. */
  problems: number;
  k: number;
  /** Try to render the figure as PNG too (needs a Chromium). */
  png: boolean;
  log?: (line: string) => void;
}

export interface Estimate {
  mean_tau: number;
  ci95: [number, number];
  /** Tokens of the class measured. */
  tokens: number;
}

export interface ClassResult {
  optimal_tau: number;
  start: Estimate;
  end: Estimate;
  /** The gate's open rate on the class's tokens, before and after. */
  gate_rate: { start: number; end: number };
  /** The end mean lies on τ*'s side of the start mean and the end CI excludes the start mean. */
  right_side: boolean;
}

export interface SeedResult {
  classes: Record<string, ClassResult>;
  accuracy: { start: { value: number; ci95: [number, number] }; end: { value: number; ci95: [number, number] } };
  /** The end CIs of every two classes with different τ* are disjoint and ordered as their τ*. */
  cis_apart: boolean;
}

export interface KnownAnswerSummary {
  preset: 'known-answer';
  /** The config file the study resolved its configs with, when one was given. */
  config_file?: string;
  rule: Record<string, number>;
  positions: number;
  seeds: Record<string, SeedResult>;
  /** Closed-form accuracies of the task: the best single fixed τ (grid of 0.01) and the per-class optimum. */
  closed_form: { best_fixed_tau: number; best_fixed_accuracy: number; optimal_accuracy: number };
  budget: { theta_updates: number; phi_updates: number; rollouts: number };
  measurement: { split: 'test'; problems: number; k: number; tau: 'sampled' };
  checks: { right_side_every_seed: boolean; cis_apart_every_seed: boolean; passed: boolean };
  config: ExperimentConfig;
}

/** What a finished seed keeps (runs/seed-<s>/measure.json). */
interface SeedMeasure {
  seed: number;
  start: Measurement;
  end: Measurement;
}

interface Measurement {
  classes: Record<string, { mean_tau: number; ci95: [number, number]; tokens: number; gate_rate: number }>;
  accuracy: { value: number; ci95: [number, number] };
}

/** The resolved config of one seed of the study. */
export function knownAnswerConfig(seed: number, sets: string[], configFile?: string): ExperimentConfig {
  return resolveConfig({
    preset: 'known-answer',
    configFile,
    overrides: [
      { source: 'method introllm', kind: 'method', value: methodOverride('introllm') },
      ...setOverrides(sets),
      { source: '--seeds', value: { seed } },
    ],
  });
}

/** Percentile bootstrap over problems of a ratio Σ num / Σ den (a class's mean τ over its tokens). */
function bootstrapRatio(num: number[], den: number[], rng: Rng, resamples = 1000): [number, number] {
  const n = num.length;
  const vals: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let s = 0,
      c = 0;
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      s += num[j];
      c += den[j];
    }
    if (c > 0) vals.push(s / c);
  }
  vals.sort((a, b) => a - b);
  const q = (p: number) => vals[Math.min(vals.length - 1, Math.max(0, Math.round(p * (vals.length - 1))))];
  return [q(0.025), q(0.975)];
}

/**
 * The controller's τ on each token class, and the accuracy, over `k` samples of each problem: rollouts as in training
 * (τ sampled by the controller), classes from Task.tokenClasses. CIs are percentile bootstraps over problems.
 */
export function measureClasses(
  model: Decoder,
  tok: Tokenizer,
  controller: TemperatureController,
  task: Task,
  problems: Problem[],
  o: { k: number; maxNewTokens: number; tau0: number; classes: string[] },
  rng: Rng,
): Measurement {
  if (!task.tokenClasses) throw new KitError(`task '${task.name}' has no token classes to measure`);
  const P = problems.length;
  const sums = new Map(o.classes.map((c) => [c, { tau: new Array<number>(P).fill(0), n: new Array<number>(P).fill(0), gate: 0 }]));
  const correct = new Array<number>(P).fill(0);
  const chunk = Math.max(1, Math.floor(256 / o.k));
  for (let p0 = 0; p0 < P; p0 += chunk) {
    const ps = problems.slice(p0, p0 + chunk);
    const prompts = ps.flatMap((pr) => Array.from({ length: o.k }, () => problemPromptIds(tok, pr, task)));
    const r = rollout(
      model,
      controller,
      { prompts, maxNewTokens: o.maxNewTokens, eosId: tok.eosId!, padId: tok.padId, tau0: o.tau0, trainStep: 0 },
      rng.fork(`measure:${p0}`),
    );
    const T = r.tau.length / r.batch;
    for (let b = 0; b < r.batch; b++) {
      const p = p0 + Math.floor(b / o.k);
      const ids = Array.from(r.tokens.subarray(b * T, b * T + r.lengths[b]));
      if (task.verify(tok.decode(completionIds(r, b, tok.eosId!)), problems[p])) correct[p] += 1 / o.k;
      task
        .tokenClasses(
          problems[p],
          ids.map((id) => tok.decode([id])),
        )
        .forEach((c, t) => {
          const s = c === null ? undefined : sums.get(c);
          if (!s || !r.mask[b * T + t]) return;
          s.tau[p] += r.tau[b * T + t];
          s.n[p] += 1;
          s.gate += r.gate[b * T + t];
        });
    }
  }
  const classes: Measurement['classes'] = {};
  for (const [c, s] of sums) {
    const tokens = s.n.reduce((a, b) => a + b, 0);
    if (tokens === 0) throw new KitError(`known-answer: no token of class ${c} was measured (too few problems?)`);
    classes[c] = {
      mean_tau: s.tau.reduce((a, b) => a + b, 0) / tokens,
      ci95: bootstrapRatio(s.tau, s.n, rng.fork(`ci:${c}`)),
      tokens,
      gate_rate: s.gate / tokens,
    };
  }
  const acc = correct.reduce((a, b) => a + b, 0) / P;
  return {
    classes,
    accuracy: {
      value: acc,
      ci95: bootstrapRatio(
        correct,
        correct.map(() => 1),
        rng.fork('ci:accuracy'),
      ),
    },
  };
}

/** Closed-form accuracies of a rule: the best fixed τ on a 0.01 grid over [0.05, 3], and every class at its τ*. */
export function closedFormAccuracy(optimalTau: number[], positions: number): KnownAnswerSummary['closed_form'] {
  const C = optimalTau.length;
  // The first class is the prompt's last digit mod C (digits uniform); every later class is uniform over the C classes.
  const first = optimalTau.map((_, k) => Array.from({ length: 10 }, (_, d) => d).filter((d) => d % C === k).length / 10);
  const acc = (tauOf: (k: number) => number) => {
    const p = optimalTau.map((t, k) => successProbability(t, tauOf(k)));
    const later = p.reduce((a, b) => a + b, 0) / C;
    return first.reduce((s, w, k) => s + w * p[k], 0) * later ** (positions - 1);
  };
  let best = { tau: 1, acc: -1 };
  for (let i = 5; i <= 300; i++) {
    const a = acc(() => i / 100);
    if (a > best.acc) best = { tau: i / 100, acc: a };
  }
  return { best_fixed_tau: best.tau, best_fixed_accuracy: best.acc, optimal_accuracy: acc((k) => optimalTau[k]) };
}

function rightSide(start: Estimate, end: Estimate, optimal: number): boolean {
  if (optimal > start.mean_tau) return end.mean_tau > start.mean_tau && end.ci95[0] > start.mean_tau;
  if (optimal < start.mean_tau) return end.mean_tau < start.mean_tau && end.ci95[1] < start.mean_tau;
  return end.ci95[0] <= optimal && optimal <= end.ci95[1];
}

function cisApart(classes: Record<string, ClassResult>): boolean {
  const list = Object.values(classes);
  for (const a of list) {
    for (const b of list) {
      if (a.optimal_tau < b.optimal_tau && !(a.end.ci95[1] < b.end.ci95[0])) return false;
    }
  }
  return true;
}

/** Runs (or resumes) every seed, then writes summary.json and the figure. Returns the summary. */
export async function runKnownAnswer(o: KnownAnswerOptions): Promise<KnownAnswerSummary> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  if (o.seeds.length === 0) throw new KitError('known-answer: no seeds');
  const cfgs = o.seeds.map((s) => knownAnswerConfig(s, o.sets, o.configFile));
  const base = cfgs[0];
  if (base.task.name !== 'known-answer') throw new KitError(`known-answer: the study needs task.name = 'known-answer', got '${base.task.name}'`);
  if (base.rollout.maxNewTokens < base.task.difficulty) {
    throw new KitError(
      `known-answer: rollout.maxNewTokens (${base.rollout.maxNewTokens}) must be at least task.difficulty (${base.task.difficulty}), the graded positions`,
    );
  }
  const names = classNames({ optimalTau: base.task.optimalTau, positions: base.task.difficulty });
  const measures: SeedMeasure[] = [];
  for (const [i, cfg] of cfgs.entries()) {
    const dir = path.join(o.out, 'runs', `seed-${cfg.seed}`);
    const file = path.join(dir, 'measure.json');
    if (fs.existsSync(file)) {
      measures.push(JSON.parse(fs.readFileSync(file, 'utf8')) as SeedMeasure);
      log(`known-answer seed ${cfg.seed}: kept from ${file}`);
      continue;
    }
    const t0 = performance.now();
    const run = await openRun(cfg, dir);
    try {
      const problems = run.task.generate(new Rng(0).fork('eval-problems'), 'test', o.problems, cfg.task.difficulty);
      const mo = { k: o.k, maxNewTokens: cfg.task.difficulty, tau0: controllerOptions(cfg).tau0, classes: names };
      const fresh = controllerFor(cfg, run.model.cfg.hiddenSize);
      const rng = new Rng(cfg.seed).fork('known-answer-measure');
      let start: Measurement;
      try {
        start = measureClasses(run.model, run.tok, fresh, run.task, problems, mo, rng.fork('start'));
      } finally {
        fresh.dispose();
      }
      await trainRun(run);
      const end = measureClasses(run.model, run.tok, run.controller, run.task, problems, mo, rng.fork('end'));
      const m: SeedMeasure = { seed: cfg.seed, start, end };
      writeJsonAtomic(file, m);
      measures.push(m);
      log(
        `known-answer seed ${cfg.seed} [${i + 1}/${cfgs.length}]: ${names.map((c) => `${c} τ ${start.classes[c].mean_tau.toFixed(2)} → ${end.classes[c].mean_tau.toFixed(2)}`).join(', ')} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    } finally {
      closeRun(run);
    }
  }
  const seeds: Record<string, SeedResult> = {};
  for (const m of measures) {
    const classes: Record<string, ClassResult> = {};
    names.forEach((c, k) => {
      const est = (x: Measurement): Estimate => ({ mean_tau: x.classes[c].mean_tau, ci95: x.classes[c].ci95, tokens: x.classes[c].tokens });
      const start = est(m.start);
      const end = est(m.end);
      const optimal = base.task.optimalTau[k];
      classes[c] = {
        optimal_tau: optimal,
        start,
        end,
        gate_rate: { start: m.start.classes[c].gate_rate, end: m.end.classes[c].gate_rate },
        right_side: rightSide(start, end, optimal),
      };
    });
    seeds[String(m.seed)] = { classes, accuracy: { start: m.start.accuracy, end: m.end.accuracy }, cis_apart: cisApart(classes) };
  }
  const all = Object.values(seeds);
  const rightEvery = all.every((s) => Object.values(s.classes).every((c) => c.right_side));
  const apartEvery = all.every((s) => s.cis_apart);
  const rows = base.rollout.promptsPerStep * base.rollout.groupSize;
  const summary: KnownAnswerSummary = {
    preset: 'known-answer',
    ...(o.configFile !== undefined ? { config_file: o.configFile } : {}),
    rule: Object.fromEntries(names.map((c, k) => [c, base.task.optimalTau[k]])),
    positions: base.task.difficulty,
    seeds,
    closed_form: closedFormAccuracy(base.task.optimalTau, base.task.difficulty),
    budget: { theta_updates: 0, phi_updates: base.train.steps * base.grpo.tempEpochs, rollouts: base.train.steps * rows },
    measurement: { split: 'test', problems: o.problems, k: o.k, tau: 'sampled' },
    checks: { right_side_every_seed: rightEvery, cis_apart_every_seed: apartEvery, passed: rightEvery && apartEvery },
    config: { ...base, seed: 0 },
  };
  writeJsonAtomic(path.join(o.out, 'summary.json'), summary);
  const curves = measures.map((m) => ({
    seed: m.seed,
    metrics: (readMetrics(path.join(o.out, 'runs', `seed-${m.seed}`)) ?? []) as unknown as Record<string, number>[],
  }));
  const figs = await writeFigures(
    path.join(o.out, 'figures'),
    [{ name: 'tau-by-class', title: 'Known-answer task: τ per class', fig: knownAnswerFigure(summary, curves) }],
    o.png,
  );
  if (figs.png.skipped) log(figs.png.skipped);
  return summary;
}

/** A short table of a summary (markdown). */
export function knownAnswerTable(s: KnownAnswerSummary): string {
  const f = (e: Estimate) => `${e.mean_tau.toFixed(3)} [${e.ci95[0].toFixed(3)}, ${e.ci95[1].toFixed(3)}]`;
  const rows = ['| seed | class | τ* | τ start [95% CI] | τ end [95% CI] | right side | gate end |', '| --- | --- | ---: | --- | --- | --- | ---: |'];
  for (const [seed, r] of Object.entries(s.seeds)) {
    for (const [c, x] of Object.entries(r.classes))
      rows.push(`| ${seed} | ${c} | ${x.optimal_tau} | ${f(x.start)} | ${f(x.end)} | ${x.right_side ? 'yes' : 'no'} | ${x.gate_rate.end.toFixed(2)} |`);
  }
  const pct = (v: number) => (100 * v).toFixed(1);
  rows.push(
    '',
    ...Object.entries(s.seeds).map(
      ([seed, r]) =>
        `seed ${seed}: accuracy ${pct(r.accuracy.start.value)}% → ${pct(r.accuracy.end.value)}% [${pct(r.accuracy.end.ci95[0])}, ${pct(r.accuracy.end.ci95[1])}]; class CIs apart: ${r.cis_apart ? 'yes' : 'no'}`,
    ),
  );
  rows.push(
    `closed form: best fixed τ ${s.closed_form.best_fixed_tau} → ${pct(s.closed_form.best_fixed_accuracy)}%; every class at its τ* → ${pct(s.closed_form.optimal_accuracy)}%`,
  );
  rows.push(
    `passed: ${s.checks.passed ? 'yes' : 'no'} (every class on its side on every seed: ${s.checks.right_side_every_seed ? 'yes' : 'no'}; CIs apart on every seed: ${s.checks.cis_apart_every_seed ? 'yes' : 'no'})`,
  );
  return rows.join('\n') + '\n';
}
