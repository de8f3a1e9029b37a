// The testbed and n of a results folder's figures (src/plots/context.ts), read from what the folder records: a run's
// resolved config (task, model folder, held-out problems and k) and the model folder itself (its parameter count from
// config.json; "SFT" when `introllm sft` made it, i.e. its training/config.json says kind "sft"). A model folder that is
// not on this machine is named by its folder name instead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadHfConfig } from '../lm/config';
import { paramCount } from '../lm/load';
import type { FigureContext } from '../plots/context';

/** The parts of a run's resolved config that a figure names. */
export interface ContextConfig {
  task?: { name?: string };
  model?: { dir?: string };
  eval?: { problems?: number; k?: number };
}

/** Parameter count and whether `introllm sft` made the model in `dir`; nulls where the folder cannot be read. */
export function modelFacts(dir: string): { params: number | null; sft: boolean } {
  let params: number | null = null;
  try {
    params = paramCount(loadHfConfig(dir));
  } catch {
    params = null;
  }
  let sft = false;
  try {
    sft = (JSON.parse(fs.readFileSync(path.join(dir, 'training', 'config.json'), 'utf8')) as { kind?: string }).kind === 'sft';
  } catch {
    sft = false;
  }
  return { params, sft };
}

/**
 * The figure context of runs made with `cfg` over `seeds`; `measured` (problems per seed and samples per problem read
 * off an evaluation) wins over the config's eval section.
 */
export function figureContextOf(
  cfg: ContextConfig | null | undefined,
  seeds: readonly number[],
  measured: { problems?: number; k?: number } = {},
): FigureContext {
  const dir = cfg?.model?.dir;
  const facts = dir ? modelFacts(dir) : { params: null, sft: false };
  return {
    ...(cfg?.task?.name ? { task: cfg.task.name } : {}),
    ...(facts.params !== null ? { params: facts.params, sft: facts.sft } : dir ? { model: path.basename(dir) } : {}),
    ...((measured.problems ?? cfg?.eval?.problems) !== undefined ? { problems: measured.problems ?? cfg?.eval?.problems } : {}),
    ...((measured.k ?? cfg?.eval?.k) !== undefined ? { k: measured.k ?? cfg?.eval?.k } : {}),
    seeds: [...seeds],
  };
}
