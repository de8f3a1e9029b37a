// The ablation grids of docs/method.md#ablations, each a list of variants run over seeds by
// the reproduction machinery and written as a table (Markdown + JSON) with 95% CIs. Every variant is also paired with
// the grid's default, the variant that is the preset's own configuration (`default`, else the first).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { readGridFile } from './grid-file';
import { Variant } from './reproduce';

export interface AblationGrid {
  description: string;
  variants: Variant[];
  /** The label of the variant that is the preset's configuration, when it is not the first. */
  default?: string;
}

export const ABLATION_GRIDS: Record<string, AblationGrid> = {
  gate: {
    description: 'Bernoulli gate (keep τ or change it) vs resampling τ at every token',
    variants: [
      { label: 'introllm', method: 'introllm', sets: [] },
      { label: 'introllm-nogate', method: 'introllm-nogate', sets: [] },
    ],
  },
  head: {
    description: 'Distribution of the τ value: Beta (paper) vs a categorical over a discrete τ set vs a squashed Gaussian',
    variants: [
      { label: 'beta', method: 'introllm', sets: [] },
      { label: 'categorical', method: 'introllm-categorical', sets: [] },
      { label: 'gaussian', method: 'introllm-gaussian', sets: [] },
    ],
  },
  'tau-range': {
    description: 'The τ range [τ_min, τ_max] of the head',
    variants: [
      { label: 'range-0.4-1.6', method: 'introllm', sets: [] },
      { label: 'range-0.1-2.0', method: 'introllm', sets: ['controller.tauMin=0.1', 'controller.tauMax=2.0'] },
      { label: 'range-0.7-1.3', method: 'introllm', sets: ['controller.tauMin=0.7', 'controller.tauMax=1.3'] },
    ],
  },
  schedule: {
    description:
      'Coordinate ascent on the same rollouts (sequential, the default), over alternating steps in blocks of 1 and 4 (θ on half the steps), joint updates, temperature-only training (LM frozen)',
    variants: [
      { label: 'sequential', method: 'introllm', sets: [] },
      { label: 'alternate-1', method: 'introllm', sets: ['schedule.mode="alternate"'] },
      { label: 'alternate-4', method: 'introllm', sets: ['schedule.mode="alternate"', 'schedule.tokenSteps=4', 'schedule.tempSteps=4'] },
      { label: 'joint', method: 'introllm', sets: ['schedule.mode="joint"'] },
      { label: 'temperature-only', method: 'introllm', sets: ['schedule.mode="temperature-only"'] },
    ],
  },
  'head-input': {
    description: 'What the head reads: h_t detached (default), h_t with gradients into the LM, or cheap features of the token distribution',
    variants: [
      { label: 'hidden-detached', method: 'introllm', sets: [] },
      { label: 'hidden-attached', method: 'introllm', sets: ['controller.detachHidden=false', 'schedule.mode="joint"'] },
      { label: 'features', method: 'introllm-features', sets: [] },
    ],
  },
  'group-size': {
    description: 'GRPO group size G at a constant 64 rollouts per step (the tiny preset: 4 prompts × G 16)',
    variants: [
      { label: 'G2', method: 'introllm', sets: ['rollout.groupSize=2', 'rollout.promptsPerStep=32'] },
      { label: 'G4', method: 'introllm', sets: ['rollout.groupSize=4', 'rollout.promptsPerStep=16'] },
      { label: 'G8', method: 'introllm', sets: ['rollout.groupSize=8', 'rollout.promptsPerStep=8'] },
      { label: 'G16', method: 'introllm', sets: ['rollout.groupSize=16', 'rollout.promptsPerStep=4'] },
    ],
    default: 'G16',
  },
  'lr-token': {
    description: 'Token-policy learning rate with τ fixed at 1 (only θ is trained): does RL at the preset rate improve on the base model?',
    variants: [
      { label: 'lr-3e-5', method: 'fixed-1.0', sets: ['optim.lrToken=3e-5'] },
      { label: 'lr-1e-4', method: 'fixed-1.0', sets: ['optim.lrToken=1e-4'] },
      { label: 'lr-3e-4', method: 'fixed-1.0', sets: ['optim.lrToken=3e-4'] },
    ],
    default: 'lr-1e-4',
  },
};

/** Grids read from files in this process (`introllm ablate --grid-file`, or a folder's grid.json), by name. */
const FILE_GRIDS: Record<string, AblationGrid> = {};

/**
 * Reads an ablation grid file (src/experiments/grid-file.ts; its own key: `default`, the variant every other is paired
 * with), resolving every variant against the study's preset, config file and --set values; afterwards ablationGrid()
 * finds it by its name.
 */
export function loadAblationGridFile(
  file: string,
  o: { preset?: string; configFile?: string; sets?: readonly string[]; resolve?: boolean } = {},
): { name: string; grid: AblationGrid } {
  const g = readGridFile(file, { kind: 'ablation', builtins: Object.keys(ABLATION_GRIDS), extraKeys: { default: 'string' }, ...o });
  const def = g.extra.default as string | undefined;
  if (def !== undefined && !g.variants.some((v) => v.label === def)) {
    throw new KitError(`${g.where(['default'])}: 'default' must be one of the variants' labels (${g.variants.map((v) => v.label).join(', ')}), got '${def}'`);
  }
  const grid: AblationGrid = { description: g.description, variants: g.variants, ...(def !== undefined ? { default: def } : {}) };
  FILE_GRIDS[g.name] = grid;
  return { name: g.name, grid };
}

/** An ablation folder's grid.json: the definition of a grid that came from a file, in the grid-file format. */
export const GRID_JSON = 'grid.json';

/** Writes `<out>/grid.json` for a grid that is not built in (so that `introllm figures` finds it later). */
export function writeFolderGrid(out: string, name: string, grid: AblationGrid): void {
  writeJsonAtomic(path.join(out, GRID_JSON), {
    name,
    description: grid.description,
    variants: grid.variants.map((v) => ({ label: v.label, method: v.method, set: v.sets })),
    ...(grid.default !== undefined ? { default: grid.default } : {}),
  });
}

/** Makes the grid of an ablation folder made from a grid file known to ablationGrid() (no-op for a built-in grid's). */
export function registerFolderGrid(dir: string): void {
  const file = path.join(dir, GRID_JSON);
  if (fs.existsSync(file)) loadAblationGridFile(file, { resolve: false });
}

export function ablationGrid(name: string): AblationGrid {
  const g = ABLATION_GRIDS[name] ?? FILE_GRIDS[name];
  if (!g) throw new KitError(`unknown ablation grid '${name}'; valid: ${Object.keys(ABLATION_GRIDS).join(', ')}`);
  return g;
}

/** The label of a grid's default variant (the preset's own configuration). */
export function defaultVariantOf(grid: AblationGrid): string {
  return grid.default ?? grid.variants[0].label;
}
