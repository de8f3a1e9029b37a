// The headroom study (`introllm headroom`): before any RL, how much could a per-token temperature policy gain on this
// base model and task? The BASE model of a preset is evaluated on the validation split (src/tasks/split.ts; never the
// test problems) under (a) a grid of fixed τ, (b) the heuristic baselines (EDT, EAD, TAMPO as their sources define
// them), (c) hand-written per-token probe rules (src/policy/probe.ts), all through the same rollout and sampling path
// (evaluatePolicy) with the same problems, k and sampling seed. Every method's Avg@k has a 95% percentile-bootstrap CI
// over problems, and its difference to the best fixed τ a paired-bootstrap CI over problems. A probe whose difference
// CI lies above 0 is evidence that a per-token policy has something to learn here.
//
// Files under the output folder: evals/<method>.jsonl (line 1: the method's header with its resolved config; then one
// line per problem), written atomically when the method is done, so a killed study resumes with the methods that
// finished; summary.json; table.md; figures/headroom.html (+ .png when a browser is available).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModelOnBackend } from '../backend';
import { ExperimentConfig, resolveConfig, setOverrides } from '../config';
import { EvalResult } from '../eval/evaluate';
import { evalJournalFileOf, removeEvalJournal } from '../eval/partial';
import { bootstrapMeanCI, pairedDiffCI } from '../eval/metrics';
import { KitError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { readResultText } from '../io/packed';
import { ProgressBoard } from '../io/progress';
import { requireModelFolder } from '../lm/config';
import { loadTokenizer } from '../lm/tokenizer';
import { headroomFigure, writeFigures } from '../plots';
import { tauKey } from '../policy/common';
import { createProbe, PROBES, ProbeRule, tapDecoder } from '../policy/probe';
import { Rng } from '../rng';
import { checkTaskPrompts, controllerFor, evaluatePolicy } from '../rl/trainer';
import { mean } from '../stats';
import { modelDirFor, taskFromConfig } from '../tasks/registry';
import { methodOverride } from './methods';

export const DEFAULT_TAUS = [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0];
export const BASELINES = ['edt', 'ead', 'tampo'];

export type HeadroomKind = 'fixed' | 'baseline' | 'probe';

export interface HeadroomOptions {
  preset: string;
  /** Output folder. */
  out: string;
  taus: number[];
  baselines: string[];
  probes: string[];
  /** Validation problems (eval.problems) and samples per problem (eval.k). */
  problems: number;
  k: number;
  /** Sampling seed (the same for every method). */
  seed: number;
  /** `key=value` config overrides (as --set). */
  sets: string[];
  /** A config file (JSON or YAML) resolved after the preset, before the method and `sets`. */
  configFile?: string;
  /** Try to render the figure as PNG too (needs a Chromium). */
  png: boolean;
  log?: (line: string) => void;
}

/** One planned method: its name in the files, its kind, its key in summary.json and its resolved config. */
export interface HeadroomMethod {
  method: string;
  kind: HeadroomKind;
  key: string;
  cfg: ExperimentConfig;
  rule: ProbeRule | null;
}

/** One evaluated method: what its evals/<method>.jsonl holds. */
export interface HeadroomEval {
  method: string;
  kind: HeadroomKind;
  key: string;
  problems: { id: string; correct: boolean[] }[];
  tauMean: number;
  lengthMean: number;
  wallS: number;
}

export interface Scored {
  accuracy: number;
  ci95: [number, number];
  tau_mean: number;
  length_mean: number;
}

export interface Compared extends Scored {
  /** Paired bootstrap over problems of accuracy − best fixed accuracy; null for the best fixed τ itself. */
  diff_vs_best_fixed: { diff: number; ci95: [number, number] } | null;
  /** The CI of the difference lies above 0. */
  beats_best_fixed: boolean;
}

export interface HeadroomSummary {
  preset: string;
  /** The config file the study resolved its configs with, when one was given. */
  config_file?: string;
  model: string;
  split: 'validation';
  problems: number;
  k: number;
  seed: number;
  max_new_tokens: number;
  metric: string;
  best_fixed: string;
  fixed: Record<string, Compared>;
  baselines: Record<string, Compared>;
  probes: Record<string, Compared & { description: string; rule: ProbeRule }>;
  headroom: { probes_beating_best_fixed: string[]; best_probe: string | null; best_probe_diff: number | null };
  wall_s: number;
}

function checkNames(what: string, names: string[], valid: readonly string[]): void {
  const bad = names.find((n) => !valid.includes(n));
  if (bad !== undefined) throw new KitError(`--${what}: unknown ${what === 'probes' ? 'probe' : 'baseline'} '${bad}'; valid: ${valid.join(', ')}`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new KitError(`--${what} names '${dup}' twice`);
}

/** Every method's resolved config, in the order they run; bad names, τ and settings fail here, before any model loads. */
export function planHeadroom(o: HeadroomOptions): HeadroomMethod[] {
  if (o.taus.length === 0) throw new KitError('--taus is empty: give at least one fixed τ (e.g. 0.4,1.0)');
  o.taus.forEach((t) => {
    if (!(Number.isFinite(t) && t > 0)) throw new KitError(`--taus: ${t} is not a temperature > 0`);
  });
  const keys = o.taus.map(tauKey);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new KitError(`--taus names ${dup} twice`);
  checkNames('baselines', o.baselines, BASELINES);
  checkNames('probes', o.probes, Object.keys(PROBES));
  const cfgOf = (method: string) =>
    resolveConfig({
      preset: o.preset,
      configFile: o.configFile,
      overrides: [
        { source: `method ${method}`, kind: 'method', value: methodOverride(method) },
        ...setOverrides(o.sets),
        { source: '--problems/--k/--seed', value: { seed: o.seed, eval: { problems: o.problems, k: o.k } } },
      ],
    });
  return [
    ...o.taus.map((t) => ({ method: `fixed-${tauKey(t)}`, kind: 'fixed' as const, key: tauKey(t), cfg: cfgOf(`fixed-${tauKey(t)}`), rule: null })),
    ...o.baselines.map((b) => ({ method: b, kind: 'baseline' as const, key: b, cfg: cfgOf(b), rule: null })),
    // A probe is not a registry controller: its config is the preset's (eval settings, τ_0); its rule is recorded.
    ...o.probes.map((p) => ({ method: `probe-${p}`, kind: 'probe' as const, key: p, cfg: cfgOf('fixed-1.0'), rule: PROBES[p] })),
  ];
}

function header(m: HeadroomMethod): Record<string, unknown> {
  return { method: m.method, kind: m.kind, key: m.key, config: m.kind === 'probe' ? { ...m.cfg, controller: null } : m.cfg, rule: m.rule };
}

/** Config sections no evaluation reads (evaluatePolicy and the controllers read seed, model, task, controller, eval). */
const TRAINING_ONLY = ['rollout', 'grpo', 'optim', 'schedule', 'train'];

function evaluationView(h: Record<string, unknown>): Record<string, unknown> {
  const cfg = h.config as Record<string, unknown> | undefined;
  return { ...h, config: cfg && Object.fromEntries(Object.entries(cfg).filter(([k]) => !TRAINING_ONLY.includes(k))) };
}

/** evals/<method>.jsonl: a header line, then one compact line per problem (correct as 0/1). */
export function evalLines(m: HeadroomMethod, ev: Pick<EvalResult, 'problems' | 'tauMean' | 'meanLength'>, wallS: number): string {
  const head = { ...header(m), tau_mean: ev.tauMean, length_mean: ev.meanLength, wall_s: wallS };
  return [head, ...ev.problems.map((p) => ({ id: p.id, correct: p.correct.map(Number), answers: p.answers }))].map((x) => JSON.stringify(x)).join('\n') + '\n';
}

/** A finished evaluation of `m` in `file` made with exactly its config (a killed study resumes), else null. */
export function readEval(file: string, m: HeadroomMethod): HeadroomEval | null {
  try {
    const text = readResultText(file);
    if (text === null) return null;
    const [first, ...rest] = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Kept when it was made the same way: same method, rule and every config key an evaluation reads (the training-only
    // sections, e.g. a learning rate chosen after the study, do not invalidate it).
    const want = evaluationView(header(m));
    if (JSON.stringify(evaluationView(Object.fromEntries(Object.keys(want).map((k) => [k, first[k]])))) !== JSON.stringify(want)) return null;
    if (rest.length !== m.cfg.eval.problems || rest.some((p) => !Array.isArray(p.correct) || p.correct.length !== m.cfg.eval.k)) return null;
    return {
      method: m.method,
      kind: m.kind,
      key: m.key,
      tauMean: first.tau_mean,
      lengthMean: first.length_mean,
      wallS: first.wall_s,
      problems: rest.map((p) => ({ id: p.id, correct: p.correct.map((c: number) => c === 1) })),
    };
  } catch {
    return null; // torn or foreign: evaluate again
  }
}

const accuracyOf = (e: HeadroomEval) => e.problems.map((p) => p.correct.filter(Boolean).length / p.correct.length);

/**
 * summary.json from the evaluated methods: Avg@k with a bootstrap CI per method, the best fixed τ (highest accuracy;
 * the first in grid order on a tie), and every method's paired-bootstrap difference to it. `resamples` bootstrap draws,
 * each method from its own stream of `rng`, so a number does not depend on which other methods ran.
 */
export function summariseHeadroom(
  evals: HeadroomEval[],
  meta: Omit<HeadroomSummary, 'best_fixed' | 'fixed' | 'baselines' | 'probes' | 'headroom' | 'metric'>,
  rng: Rng,
  resamples = 2000,
): HeadroomSummary {
  const fixed = evals.filter((e) => e.kind === 'fixed');
  if (fixed.length === 0) throw new KitError('headroom summary: no fixed-τ evaluation to compare with');
  const ids = evals[0].problems.map((p) => p.id).join('|');
  for (const e of evals) {
    if (e.problems.map((p) => p.id).join('|') !== ids)
      throw new KitError(`headroom summary: ${e.method} was evaluated on other problems than ${evals[0].method}; paired differences need the same problems`);
  }
  const acc = new Map(evals.map((e) => [e.method, accuracyOf(e)]));
  let best = fixed[0];
  for (const e of fixed) if (mean(acc.get(e.method)!) > mean(acc.get(best.method)!)) best = e;
  const bestAcc = acc.get(best.method)!;
  const compare = (e: HeadroomEval): Compared => {
    const a = acc.get(e.method)!;
    const ci = bootstrapMeanCI(a, rng.fork(`accuracy:${e.method}`), resamples);
    const d = e === best ? null : pairedDiffCI(a, bestAcc, rng.fork(`diff:${e.method}`), resamples);
    return {
      accuracy: ci.value,
      ci95: [ci.lo, ci.hi],
      tau_mean: e.tauMean,
      length_mean: e.lengthMean,
      diff_vs_best_fixed: d && { diff: d.value, ci95: [d.lo, d.hi] },
      beats_best_fixed: d !== null && d.lo > 0,
    };
  };
  const probes = Object.fromEntries(
    evals.filter((e) => e.kind === 'probe').map((e) => [e.key, { description: PROBES[e.key]?.description ?? '', rule: PROBES[e.key], ...compare(e) }]),
  );
  const beating = Object.keys(probes).filter((p) => probes[p].beats_best_fixed);
  const ranked = Object.keys(probes).sort((x, y) => probes[y].diff_vs_best_fixed!.diff - probes[x].diff_vs_best_fixed!.diff);
  return {
    ...meta,
    metric: `Avg@${meta.k} (mean per-problem accuracy over ${meta.k} samples); 95% percentile bootstrap over problems; differences paired by problem`,
    best_fixed: best.key,
    fixed: Object.fromEntries(fixed.map((e) => [e.key, compare(e)])),
    baselines: Object.fromEntries(evals.filter((e) => e.kind === 'baseline').map((e) => [e.key, compare(e)])),
    probes,
    headroom: {
      probes_beating_best_fixed: beating,
      best_probe: ranked[0] ?? null,
      best_probe_diff: ranked.length ? probes[ranked[0]].diff_vs_best_fixed!.diff : null,
    },
  };
}

const pct = (x: number) => (100 * x).toFixed(1);
const ci = (c: [number, number]) => `[${pct(c[0])}, ${pct(c[1])}]`;
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${pct(Math.abs(x))}`;

/** table.md: one row per method, its accuracy and its paired difference to the best fixed τ, in points. */
export function headroomTable(s: HeadroomSummary): string {
  const rows: string[] = [
    `Headroom of ${s.model} (${s.preset}) on ${s.problems} validation problems, Avg@${s.k}, seed ${s.seed}; best fixed τ = ${s.best_fixed}.`,
    '',
    `| method | kind | accuracy (Avg@${s.k}) % | 95% CI | Δ vs fixed τ ${s.best_fixed} (points) | 95% CI (paired) | beats it | mean τ |`,
    '| --- | --- | ---: | --- | ---: | --- | --- | ---: |',
  ];
  const row = (name: string, kind: string, r: Compared) =>
    rows.push(
      `| ${name} | ${kind} | ${pct(r.accuracy)} | ${ci(r.ci95)} | ${r.diff_vs_best_fixed ? signed(r.diff_vs_best_fixed.diff) : 'best'} | ${r.diff_vs_best_fixed ? ci(r.diff_vs_best_fixed.ci95) : ''} | ${r.beats_best_fixed ? 'yes' : 'no'} | ${r.tau_mean.toFixed(3)} |`,
    );
  for (const [k, r] of Object.entries(s.fixed)) row(`fixed-${k}`, 'fixed', r);
  for (const [k, r] of Object.entries(s.baselines)) row(k, 'baseline', r);
  for (const [k, r] of Object.entries(s.probes)) row(`probe-${k}`, 'probe', r);
  rows.push('', 'Probes:', ...Object.entries(s.probes).map(([k, r]) => `* probe-${k}: ${r.description}`));
  return rows.join('\n') + '\n';
}

/** Runs (or resumes) the study and writes summary.json, table.md and the figure. Returns the summary. */
export async function runHeadroom(o: HeadroomOptions): Promise<HeadroomSummary> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const plan = planHeadroom(o);
  const base = plan[0].cfg;
  const modelDir = modelDirFor(base);
  requireModelFolder(modelDir);
  const task = taskFromConfig(base.task);
  const tok = await loadTokenizer(modelDir);
  checkTaskPrompts(base, task, tok, { training: false });
  const { model } = loadModelOnBackend(modelDir, { trainable: false });
  const t0 = performance.now();
  const evals: HeadroomEval[] = [];
  // A live line for the method under way and the overall ETA (src/io/progress.ts); redrawn on a terminal only when the
  // lines go to stderr.
  const board = new ProgressBoard({ log, total: plan.length, width: 1, noun: 'methods', ...(o.log ? { tty: null } : {}) });
  try {
    for (const [i, m] of plan.entries()) {
      const file = path.join(o.out, 'evals', `${m.method}.jsonl`);
      const kept = readEval(file, m);
      if (kept) {
        board.skip();
        board.log(`headroom [${i + 1}/${plan.length}] ${m.method}: kept from ${file}`);
        evals.push(kept);
        continue;
      }
      const t = performance.now();
      // Finished chunks go to <method>.partial.jsonl: a method killed part-way resumes there.
      const io = {
        journal: evalJournalFileOf(file),
        onProgress: (done: number, total: number) => board.report(m.method, { phase: 'eval', done, total, unit: 'problems' }),
      };
      board.start(m.method, m.method);
      let ev: EvalResult;
      if (m.rule) {
        const probe = createProbe(m.key, (id) => tok.decode([id], { keepSpecial: true }));
        ev = evaluatePolicy(tapDecoder(model, probe), tok, probe, task, m.cfg, 0, 'validation', io);
      } else {
        const controller = controllerFor(m.cfg, model.cfg.hiddenSize);
        try {
          ev = evaluatePolicy(model, tok, controller, task, m.cfg, 0, 'validation', io);
        } finally {
          controller.dispose();
        }
      }
      board.end(m.method, true);
      const wallS = (performance.now() - t) / 1000;
      writeFileAtomic(file, evalLines(m, ev, wallS));
      removeEvalJournal(io.journal);
      board.log(
        `headroom [${i + 1}/${plan.length}] ${m.method}: Avg@${m.cfg.eval.k} ${pct(ev.report.avg.value)}% in ${wallS.toFixed(1)} s · ${board.overall()}`,
      );
      evals.push({ method: m.method, kind: m.kind, key: m.key, problems: ev.problems, tauMean: ev.tauMean, lengthMean: ev.meanLength, wallS });
    }
  } finally {
    board.close();
    model.dispose();
  }
  const summary = summariseHeadroom(
    evals,
    {
      preset: o.preset,
      ...(o.configFile !== undefined ? { config_file: o.configFile } : {}),
      model: base.model.dir,
      split: 'validation',
      problems: base.eval.problems,
      k: base.eval.k,
      seed: o.seed,
      max_new_tokens: base.eval.maxNewTokens,
      wall_s: evals.reduce((s, e) => s + e.wallS, 0),
    },
    new Rng(o.seed).fork('headroom-bootstrap'),
  );
  writeJsonAtomic(path.join(o.out, 'summary.json'), summary);
  writeFileAtomic(path.join(o.out, 'table.md'), headroomTable(summary));
  const figs = await writeFigures(path.join(o.out, 'figures'), [{ name: 'headroom', title: 'Headroom before RL', fig: headroomFigure(summary) }], o.png);
  if (figs.png.skipped && o.png) log(`headroom: no PNG (${figs.png.skipped}); the HTML figure is in ${figs.html[0]}`);
  log(`headroom: ${plan.length} methods, ${((performance.now() - t0) / 1000).toFixed(0)} s this run`);
  return summary;
}
