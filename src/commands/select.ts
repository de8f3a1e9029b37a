// `introllm select --grid NAME`: a hyperparameter grid of a preset trained and scored on the validation split
// (src/experiments/selection.ts), written to results/selection/<preset>/<grid>/ with selection.json / selection.md
// naming the chosen variant. Resumable like `reproduce`.
import * as path from 'node:path';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { runSelection, SELECTION_GRIDS } from '../experiments/selection';
import { intFlag, intListFlag, parseFlags } from './args';
import { LAUNCH_FLAGS, LAUNCH_USAGE, launcherFromFlags, reportPending } from './launch-flags';

export const command: Command = {
  summary: 'Choose hyperparameters on the validation split: train a grid of variants and pick the best (resumable).',
  usage: `introllm select --grid ${Object.keys(SELECTION_GRIDS).join('|')} [--preset tiny] [--seeds 0,1] [--out DIR] [--jobs N] [--set key=value …] [--backend NAME] ${LAUNCH_USAGE}`,
  async run(argv) {
    const f = parseFlags(argv, {
      grid: { type: 'string' }, preset: { type: 'string', default: 'tiny' }, seeds: { type: 'string' }, out: { type: 'string' },
      jobs: { type: 'string' }, set: { type: 'string', multiple: true }, backend: { type: 'string' }, ...LAUNCH_FLAGS,
    });
    if (typeof f.grid !== 'string') throw new KitError(`--grid is required; valid: ${Object.keys(SELECTION_GRIDS).join(', ')}`);
    const preset = f.preset as string;
    const launcher = launcherFromFlags(f);
    const r = await runSelection({
      grid: f.grid, preset, out: (f.out as string | undefined) ?? path.join('results', 'selection', preset, f.grid),
      seeds: f.seeds === undefined ? [0, 1] : intListFlag(f, 'seeds'), jobs: f.jobs === undefined ? undefined : intFlag(f, 'jobs', 1),
      sets: (f.set as string[] | undefined) ?? [], backend: f.backend as string | undefined, launcher, log: (l) => process.stderr.write(l + '\n'),
    });
    if (!('chosen' in r)) return reportPending('select', r.pending, f['dry-run'] === true);
    console.log(`\n${r.table}\n\nchosen: ${r.chosen.variant} (${r.chosen.sets.join(' ')})`);
    return r.failed.length ? 1 : 0;
  },
};
