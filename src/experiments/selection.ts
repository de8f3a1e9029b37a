// Hyperparameter selection on the validation split (`introllm select`): a grid of variants of a preset, trained like
// the reproduction's runs and scored on validation problems (eval.split = 'validation'; src/tasks/split.ts), never on
// the held-out test problems. The rule is fixed before the runs: the variant with the highest validation Avg@k (the
// first in grid order on a tie) is chosen. The chosen values are then written into the preset by hand, with the
// folder of the selection as their source (src/config.ts), and the test-split reproduction runs once with them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { evalJournalFileOf, removeEvalJournal } from '../eval/partial';
import type { Launcher } from './launcher';
import { initBackend, loadModelOnBackend } from '../backend';
import { controllerOptions, ExperimentConfig, resolveConfig, setOverrides } from '../config';
import { loadTokenizer } from '../lm/tokenizer';
import { controllerFor, evaluatePolicy } from '../rl/trainer';
import { modelDirFor, taskFromConfig } from '../tasks/registry';
import { loadCheckpoint } from '../train/checkpoint';
import { readGridFile } from './grid-file';
import { methodOverride } from './methods';
import { REPRODUCE_PRESETS, reproduce, summariseReproduction, Variant } from './reproduce';
import { readEval, readRunConfig, runDirOf } from './run-files';
import type { MethodSummary } from './summary';

export const VALIDATION_SET = 'eval.split="validation"';

export interface SelectionGrid {
  description: string;
  /** What the grid chooses, as config keys. */
  chooses: string[];
  variants: Variant[];
  /** The variants differ only in how a trained policy acts at evaluation (controller.evalAction): the first variant's
   *  runs are trained, and every other variant evaluates those runs' final θ and φ with its own settings (training is
   *  deterministic, so training them again would give the same parameters). */
  evaluationOnly?: boolean;
}

const lrToken = (v: string): Variant => ({ label: `lr-token-${v}`, method: 'fixed-1.0', sets: [`optim.lrToken=${v}`] });
const lrTemp = (v: string): Variant => ({ label: `lr-temp-${v}`, method: 'introllm', sets: [`optim.lrTemp=${v}`] });
const introllm = (label: string, ...sets: string[]): Variant => ({ label, method: 'introllm', sets });

export const SELECTION_GRIDS: Record<string, SelectionGrid> = {
  'lr-token': {
    description: 'Token-policy learning rate, with τ fixed at 1 (θ only): the rate every method trains θ with',
    chooses: ['optim.lrToken'],
    variants: ['3e-5', '1e-4', '3e-4', '1e-3', '3e-3'].map(lrToken),
  },
  'lr-temp': {
    description: "Temperature-head learning rate of IntroLLM (at the preset's lrToken)",
    chooses: ['optim.lrTemp'],
    variants: ['1e-3', '3e-3', '1e-2', '3e-2'].map(lrTemp),
  },
  schedule: {
    description:
      "IntroLLM's schedule among those that give θ the baselines' updates and rollouts: φ then θ on every batch (sequential) or both in one update (joint)",
    chooses: ['schedule.mode'],
    variants: [introllm('sequential', 'schedule.mode="sequential"'), introllm('joint', 'schedule.mode="joint"')],
  },
  'tau-range': {
    description: "The head's τ range: the kit's [0.4, 1.6], or wider ranges that hold the testbed's best probes (τ 0.3 and 2.0)",
    chooses: ['controller.tauMin', 'controller.tauMax'],
    variants: [
      introllm('range-0.4-1.6'), // the preset's range (no override): its runs are those of the preset's configuration
      introllm('range-0.2-2.0', 'controller.tauMin=0.2', 'controller.tauMax=2.0'),
    ],
  },
  'head-init': {
    description: "Concentration α + β of the head's Beta at initialisation (4: Beta(2, 2), sd 0.27 in τ on [0.4, 1.6]; 50: sd 0.08)",
    chooses: ['controller.headInitConcentration'],
    variants: ['4', '20', '50'].map((v) => introllm(`concentration-${v}`, `controller.headInitConcentration=${v}`)),
  },
  'eval-action': {
    description: "How the trained head acts at evaluation: sampling as in training, or deterministically at the Beta's mean or mode",
    chooses: ['controller.evalAction'],
    variants: ['sample', 'mean', 'mode'].map((v) => introllm(`eval-${v}`, `controller.evalAction="${v}"`)),
    evaluationOnly: true,
  },
};

/** Grids read from files in this process (`introllm select --grid-file`), by name. */
const FILE_GRIDS: Record<string, SelectionGrid> = {};

/**
 * Reads a selection grid file (src/experiments/grid-file.ts; its own keys: `chooses`, the config keys it chooses, by
 * default every key its variants set, and `evaluationOnly`), resolving every variant as the selection will (the train
 * preset, config file and --set values, on the validation split); afterwards selectionGrid() finds it by its name.
 */
export function loadSelectionGridFile(
  file: string,
  o: { preset?: string; configFile?: string; sets?: readonly string[] } = {},
): { name: string; grid: SelectionGrid } {
  const g = readGridFile(file, {
    kind: 'selection',
    builtins: Object.keys(SELECTION_GRIDS),
    extraKeys: { chooses: 'string[]', evaluationOnly: 'boolean' },
    ...o,
    after: setOverrides([VALIDATION_SET]),
  });
  const chooses = (g.extra.chooses as string[] | undefined) ?? [...new Set(g.variants.flatMap((v) => v.sets.map((s) => s.slice(0, s.indexOf('=')))))];
  const grid: SelectionGrid = {
    description: g.description,
    chooses,
    variants: g.variants,
    ...(g.extra.evaluationOnly === true ? { evaluationOnly: true } : {}),
  };
  FILE_GRIDS[g.name] = grid;
  return { name: g.name, grid };
}

export function selectionGrid(name: string): SelectionGrid {
  const g = SELECTION_GRIDS[name] ?? FILE_GRIDS[name];
  if (!g) throw new KitError(`unknown selection grid '${name}'; valid: ${Object.keys(SELECTION_GRIDS).join(', ')}`);
  return g;
}

export interface SelectionRow {
  variant: string;
  sets: string[];
  accuracy: number;
  ci95: [number, number];
  seeds: number[];
}

/** The rule: highest validation accuracy, the first in grid order on a tie. Every variant must have finished. */
export function chooseVariant(grid: SelectionGrid, methods: Record<string, MethodSummary>): { rows: SelectionRow[]; chosen: SelectionRow } {
  const rows = grid.variants.map((v): SelectionRow => {
    const m = methods[v.label];
    if (!m) throw new KitError(`selection: variant '${v.label}' has no finished evaluation; run the same command again to finish it`);
    return { variant: v.label, sets: v.sets, accuracy: m.accuracy, ci95: m.ci95, seeds: m.seeds };
  });
  let chosen = rows[0];
  for (const r of rows) if (r.accuracy > chosen.accuracy) chosen = r;
  return { rows, chosen };
}

export interface SelectOptions {
  grid: string;
  preset: string;
  out: string;
  seeds: number[];
  /** Runs at a time (default: reproduce's, by cores and memory). */
  jobs?: number;
  sets: string[];
  /** A config file every run resolves after the preset (before --set). */
  configFile?: string;
  backend?: string;
  /** Where the runs execute (default: child processes on this machine). */
  launcher?: Launcher;
  log: (line: string) => void;
}

/** Runs (or resumes) a selection grid on the validation split; writes selection.json and selection.md under `out`. */
export async function runSelection(
  o: SelectOptions,
): Promise<{ rows: SelectionRow[]; chosen: SelectionRow; table: string; failed: string[]; pending: [] } | { pending: string[]; failed: string[] }> {
  const grid = selectionGrid(o.grid);
  if (o.sets.some((s) => s.replace(/\s/g, '').startsWith('eval.split='))) throw new KitError('select: eval.split is always "validation" here; drop that --set');
  const trained = grid.evaluationOnly ? grid.variants.slice(0, 1) : grid.variants;
  let r = await reproduce({
    preset: o.preset,
    out: o.out,
    jobs: o.jobs,
    backend: o.backend,
    sets: [VALIDATION_SET, ...o.sets],
    configFile: o.configFile,
    seeds: o.seeds,
    variants: trained,
    launcher: o.launcher,
    log: o.log,
  });
  if (r.pending.length) return { pending: r.pending, failed: r.failed }; // a cluster still has runs: nothing to choose yet
  if (grid.evaluationOnly) {
    await evaluateTrainedVariants(o, grid);
    const labels = grid.variants.map((v) => v.label);
    const s = await summariseReproduction(o.out, labels, o.seeds, resolveVariant(o, grid.variants[0], o.seeds[0]).eval.k, o.preset, o.log);
    r = { ...r, summary: s.summary };
  }
  const { rows, chosen } = chooseVariant(grid, r.summary.methods);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const table = [
    `Selection '${o.grid}' (${grid.description}) at the ${o.preset} preset, validation split, seeds ${o.seeds.join(',')}`,
    '',
    '| variant | setting | validation Avg@k | 95% CI | chosen |',
    '| --- | --- | ---: | --- | --- |',
    ...rows.map((x) => `| ${x.variant} | ${x.sets.join(' ')} | ${pct(x.accuracy)} | [${pct(x.ci95[0])}, ${pct(x.ci95[1])}] | ${x === chosen ? 'yes' : ''} |`),
  ].join('\n');
  writeJsonAtomic(path.join(o.out, 'selection.json'), {
    grid: o.grid,
    description: grid.description,
    chooses: grid.chooses,
    preset: o.preset,
    split: 'validation',
    seeds: o.seeds,
    sets: o.sets,
    ...(o.configFile !== undefined ? { config_file: o.configFile } : {}),
    ...(o.grid in SELECTION_GRIDS ? {} : { variants: grid.variants }),
    rule: 'highest validation Avg@k; the first in grid order on a tie',
    rows,
    chosen: { variant: chosen.variant, sets: chosen.sets },
  });
  writeFileAtomic(path.join(o.out, 'selection.md'), table + '\n');
  return { rows, chosen, table, failed: r.failed, pending: [] };
}

/** A variant's config for one seed, as reproduce resolves it (the preset, the config file, the method, the validation split, --set). */
export function resolveVariant(o: SelectOptions, v: Variant, seed: number): ExperimentConfig {
  const preset = REPRODUCE_PRESETS[o.preset]?.trainPreset ?? o.preset;
  return resolveConfig({
    preset,
    configFile: o.configFile,
    overrides: [
      { source: `method ${v.method}`, kind: 'method', value: methodOverride(v.method) },
      ...setOverrides([VALIDATION_SET, ...o.sets, ...v.sets]),
      { source: '--seeds', value: { seed } },
    ],
  });
}

/** A config completed with every default (a run recorded before a key existed ran with its default) and with its
 *  controller fully resolved, without the key an evaluation-only grid may change. */
function withoutEvalAction(c: ExperimentConfig): unknown {
  const full = resolveConfig({ overrides: [{ source: 'run config', value: c }] });
  const { evalAction: _a, ...controller } = controllerOptions(full);
  return { ...full, controller: { name: full.controller.name, ...controller } };
}

/**
 * An evaluation-only grid: every variant after the first evaluates the first variant's trained runs (their checkpoint:
 * θ and φ) on the validation split with its own config, into `<out>/runs/<label>/seed-<s>/` (config.json, eval.json).
 * A variant whose config differs from the trained one in anything but controller.evalAction is an error.
 */
export async function evaluateTrainedVariants(o: SelectOptions, grid: SelectionGrid): Promise<void> {
  const [first, ...rest] = grid.variants;
  await initBackend(o.backend, { log: () => {} });
  for (const v of rest) {
    for (const seed of o.seeds) {
      const dir = runDirOf(o.out, v.label, seed);
      if (readEval(dir)) continue;
      const src = runDirOf(o.out, first.label, seed);
      const cfg = resolveVariant(o, v, seed);
      const trainedCfg = readRunConfig(src);
      if (!trainedCfg) throw new KitError(`${src}: the trained run of '${first.label}' seed ${seed} is missing`);
      if (JSON.stringify(withoutEvalAction(cfg)) !== JSON.stringify(withoutEvalAction(trainedCfg))) {
        throw new KitError(
          `selection '${o.grid}': variant '${v.label}' changes more than controller.evalAction, so it cannot evaluate the runs of '${first.label}'`,
        );
      }
      const modelDir = modelDirFor(cfg);
      const { model } = loadModelOnBackend(modelDir, { trainable: true, theta: 'none' });
      const controller = controllerFor(cfg, model.cfg.hiddenSize);
      try {
        const st = await loadCheckpoint(src, { variables: { theta: model.variables(), phi: controller.variables() }, optimizers: [] });
        if (!st) throw new KitError(`${src}: no checkpoint to evaluate (ckpt/ is not committed: train the runs on this machine)`);
        const t0 = performance.now();
        // Finished chunks go to eval.partial.jsonl: an evaluation killed part-way resumes there.
        const journal = evalJournalFileOf(path.join(dir, 'eval.json'));
        const ev = evaluatePolicy(model, await loadTokenizer(modelDir), controller, taskFromConfig(cfg.task), cfg, st.step as number, cfg.eval.split, {
          journal,
        });
        fs.mkdirSync(dir, { recursive: true });
        writeJsonAtomic(path.join(dir, 'config.json'), cfg);
        // the trained run's metrics (the same training) travel with the evaluation, for the figures
        for (const f of ['metrics.jsonl', 'metrics.jsonl.gz']) if (fs.existsSync(path.join(src, f))) fs.copyFileSync(path.join(src, f), path.join(dir, f));
        writeJsonAtomic(path.join(dir, 'eval.json'), { step: st.step, ...ev });
        removeEvalJournal(journal);
        o.log(
          `select ${o.grid}: ${v.label} seed ${seed} (the runs of ${first.label}, evaluated): ${(100 * ev.report.avg.value).toFixed(1)}% in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
        );
      } finally {
        controller.dispose();
        model.dispose();
      }
    }
  }
}
