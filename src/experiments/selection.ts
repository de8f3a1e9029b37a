// Hyperparameter selection on the validation split (`introllm select`): a grid of variants of a preset, trained like
// the reproduction's runs and scored on validation problems (eval.split = 'validation'; src/tasks/split.ts), never on
// the held-out test problems. The rule is fixed before the runs: the variant with the highest validation Avg@k (the
// first in grid order on a tie) is chosen. The chosen values are then written into the preset by hand, with the
// folder of the selection as their source (src/config.ts), and the test-split reproduction runs once with them.
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import type { Launcher } from './launcher';
import { reproduce, Variant } from './reproduce';
import type { MethodSummary } from './summary';

export const VALIDATION_SET = 'eval.split="validation"';

export interface SelectionGrid {
  description: string;
  /** What the grid chooses, as config keys. */
  chooses: string[];
  variants: Variant[];
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
    description: "IntroLLM's schedule among those that give θ the baselines' updates and rollouts: φ then θ on every batch (sequential) or both in one update (joint)",
    chooses: ['schedule.mode'],
    variants: [introllm('sequential', 'schedule.mode="sequential"'), introllm('joint', 'schedule.mode="joint"')],
  },
  'tau-range': {
    description: "The head's τ range: the kit's [0.4, 1.6], or wider ranges that hold the testbed's best probes (τ 0.3 and 2.0)",
    chooses: ['controller.tauMin', 'controller.tauMax'],
    variants: [
      introllm('range-0.4-1.6', 'controller.tauMin=0.4', 'controller.tauMax=1.6'),
      introllm('range-0.2-2.0', 'controller.tauMin=0.2', 'controller.tauMax=2.0'),
    ],
  },
  'head-init': {
    description: "Concentration α + β of the head's Beta at initialisation (4: Beta(2, 2), sd 0.27 in τ on [0.4, 1.6]; 50: sd 0.08)",
    chooses: ['controller.headInitConcentration'],
    variants: ['4', '20', '50'].map((v) => introllm(`concentration-${v}`, `controller.headInitConcentration=${v}`)),
  },
  'eval-action': {
    description: 'How the trained head acts at evaluation: sampling as in training, or deterministically at the Beta\'s mean or mode',
    chooses: ['controller.evalAction'],
    variants: ['sample', 'mean', 'mode'].map((v) => introllm(`eval-${v}`, `controller.evalAction="${v}"`)),
  },
};

export function selectionGrid(name: string): SelectionGrid {
  const g = SELECTION_GRIDS[name];
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
  backend?: string;
  /** Where the runs execute (default: child processes on this machine). */
  launcher?: Launcher;
  log: (line: string) => void;
}

/** Runs (or resumes) a selection grid on the validation split; writes selection.json and selection.md under `out`. */
export async function runSelection(o: SelectOptions): Promise<{ rows: SelectionRow[]; chosen: SelectionRow; table: string; failed: string[]; pending: [] }
  | { pending: string[]; failed: string[] }> {
  const grid = selectionGrid(o.grid);
  if (o.sets.some((s) => s.replace(/\s/g, '').startsWith('eval.split='))) throw new KitError('select: eval.split is always "validation" here; drop that --set');
  const r = await reproduce({ preset: o.preset, out: o.out, jobs: o.jobs, backend: o.backend, sets: [VALIDATION_SET, ...o.sets], seeds: o.seeds, variants: grid.variants, launcher: o.launcher, log: o.log });
  if (r.pending.length) return { pending: r.pending, failed: r.failed }; // a cluster still has runs: nothing to choose yet
  const { rows, chosen } = chooseVariant(grid, r.summary.methods);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const table = [
    `Selection '${o.grid}' (${grid.description}) at the ${o.preset} preset, validation split, seeds ${o.seeds.join(',')}`, '',
    '| variant | setting | validation Avg@k | 95% CI | chosen |', '| --- | --- | ---: | --- | --- |',
    ...rows.map((x) => `| ${x.variant} | ${x.sets.join(' ')} | ${pct(x.accuracy)} | [${pct(x.ci95[0])}, ${pct(x.ci95[1])}] | ${x === chosen ? 'yes' : ''} |`),
  ].join('\n');
  writeJsonAtomic(path.join(o.out, 'selection.json'), {
    grid: o.grid, description: grid.description, chooses: grid.chooses, preset: o.preset, split: 'validation', seeds: o.seeds, sets: o.sets,
    rule: 'highest validation Avg@k; the first in grid order on a tie', rows, chosen: { variant: chosen.variant, sets: chosen.sets },
  });
  writeFileAtomic(path.join(o.out, 'selection.md'), table + '\n');
  return { rows, chosen, table, failed: r.failed, pending: [] };
}
