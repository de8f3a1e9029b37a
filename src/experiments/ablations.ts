// The ablation grids of docs/method.md#ablations, each a list of variants run over seeds by
// the reproduction machinery and written as a table (Markdown + JSON) with 95% CIs. Every variant is also paired with
// the grid's default, the variant that is the preset's own configuration (`default`, else the first).
import { KitError } from '../errors';
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
    description: 'Coordinate ascent on the same rollouts (sequential, the default), over alternating steps in blocks of 1 and 4 (θ on half the steps), joint updates, temperature-only training (LM frozen)',
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

export function ablationGrid(name: string): AblationGrid {
  const g = ABLATION_GRIDS[name];
  if (!g) throw new KitError(`unknown ablation grid '${name}'; valid: ${Object.keys(ABLATION_GRIDS).join(', ')}`);
  return g;
}

/** The label of a grid's default variant (the preset's own configuration). */
export function defaultVariantOf(grid: AblationGrid): string {
  return grid.default ?? grid.variants[0].label;
}
