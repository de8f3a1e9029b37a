// `introllm figures DIR…`: rebuilds summary.json, table.md and every figure of finished reproduction or ablation
// folders from the data they hold (each run's eval.json and metrics.jsonl), without training and without adding a
// session to the manifest. What it is for: re-rendering the committed results after a change to the plots (or to how
// HTML pages include plotly.js), so figures never have to be edited or committed by hand.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { summariseReproduction } from '../experiments/reproduce';
import { ablationGrid, defaultVariantOf, registerFolderGrid } from '../experiments/ablations';
import { writeAblationOutputs } from './ablate';

interface FolderConfig { preset: string; variants: { label: string }[]; seeds: number[]; runs: Record<string, { eval: { k: number } }> }

function readFolderConfig(dir: string): FolderConfig {
  const file = path.join(dir, 'config.json');
  let cfg: FolderConfig;
  try {
    cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as FolderConfig;
  } catch (e) {
    throw new KitError(`${file}: not a reproduction or ablation folder (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof cfg.preset !== 'string' || !Array.isArray(cfg.variants) || !Array.isArray(cfg.seeds) || typeof cfg.runs !== 'object' || cfg.runs === null) {
    throw new KitError(`${file}: expected fields preset, variants, seeds and runs (written by introllm reproduce or ablate)`);
  }
  const first = cfg.variants[0]?.label;
  if (first === undefined || typeof cfg.runs[first]?.eval?.k !== 'number') throw new KitError(`${file}: runs.${first ?? '<first variant>'}.eval.k is missing`);
  return cfg;
}

export const command: Command = {
  summary: 'Rebuild summary.json, table.md and the figures of finished reproduction or ablation folders (no training).',
  usage: 'introllm figures DIR [DIR …]   (e.g. introllm figures results/tiny results/ablations/tiny/*)',
  async run(argv) {
    const dirs = parseArgs({ args: argv, options: {}, strict: true, allowPositionals: true }).positionals;
    if (dirs.length === 0) throw new KitError('name at least one folder, e.g. introllm figures results/tiny');
    const log = (l: string) => process.stderr.write(l + '\n');
    for (const dir of dirs) {
      registerFolderGrid(dir); // an ablation grid from a grid file: its definition (grid.json) is in the folder
      const cfg = readFolderConfig(dir);
      const labels = cfg.variants.map((v) => v.label);
      // An ablation folder (it has a table.json) pairs every variant with the grid's default.
      const tableJson = path.join(dir, 'table.json');
      const grid = fs.existsSync(tableJson) ? (JSON.parse(fs.readFileSync(tableJson, 'utf8')) as { grid?: unknown }).grid : null;
      if (grid !== null && typeof grid !== 'string') throw new KitError(`${tableJson}: field 'grid' must name the ablation grid`);
      const r = await summariseReproduction(dir, labels, cfg.seeds, cfg.runs[labels[0]].eval.k, cfg.preset, log,
        { defaultVariant: grid === null ? undefined : defaultVariantOf(ablationGrid(grid)) });
      if (grid !== null) await writeAblationOutputs(dir, grid, cfg.preset, r.summary.methods, r.comparisons, log);
      console.log(`${dir}: ${Object.keys(r.summary.methods).length} methods, ${r.figures.length} figure files`);
    }
    return 0;
  },
};
