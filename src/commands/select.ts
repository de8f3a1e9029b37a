// `introllm select --grid NAME` (or `--grid-file F`, a grid defined in a JSON or YAML file): a hyperparameter grid of a
// preset trained and scored on the validation split (src/experiments/selection.ts), written to
// runs/selection/<preset>/<grid>/ (--reference: the committed results/selection/<preset>/<grid>/) with selection.json /
// selection.md naming the chosen variant. Resumable like `reproduce`.
import * as path from 'node:path';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { REPRODUCE_PRESETS } from '../experiments/reproduce';
import { loadSelectionGridFile, runSelection, SELECTION_GRIDS } from '../experiments/selection';
import { intFlag, intListFlag, parseFlags } from './args';
import { CONFIG_FLAGS, configInputs, configUsage, STUDY_OUT_FLAGS, studyOutFromFlags, studyOutUsage } from './config-flags';
import { LAUNCH_FLAGS, LAUNCH_USAGE, launcherFromFlags, reportPending } from './launch-flags';

export const command: Command = {
  summary: 'Choose hyperparameters on the validation split: train a grid of variants and pick the best (resumable).',
  usage:
    `introllm select (--grid ${Object.keys(SELECTION_GRIDS).join('|')} | --grid-file FILE.yaml|FILE.json) ${configUsage(Object.keys(REPRODUCE_PRESETS))} [--seeds 0,1 (default: 0,1)] ${studyOutUsage('selection/<preset>/<grid>')} [--jobs N] [--backend NAME] ${LAUNCH_USAGE}\n\n` +
    '  A grid file: {name, description, variants: [{label, method (default introllm), set: ["key=value", …]}], chooses?: [KEY, …],\n' +
    '  evaluationOnly?: true}; see docs/configuration.md and configs/grid-lr-temp.yaml.',
  async run(argv) {
    const f = parseFlags(argv, {
      grid: { type: 'string' },
      'grid-file': { type: 'string' },
      ...CONFIG_FLAGS,
      ...STUDY_OUT_FLAGS,
      seeds: { type: 'string' },
      jobs: { type: 'string' },
      backend: { type: 'string' },
      ...LAUNCH_FLAGS,
    });
    const inputs = configInputs(f, { presets: Object.keys(REPRODUCE_PRESETS) });
    if ((typeof f.grid === 'string') === (typeof f['grid-file'] === 'string')) {
      throw new KitError(`give one of --grid (built in: ${Object.keys(SELECTION_GRIDS).join(', ')}) or --grid-file FILE`);
    }
    const grid =
      typeof f['grid-file'] === 'string'
        ? loadSelectionGridFile(f['grid-file'], { preset: REPRODUCE_PRESETS[inputs.preset].trainPreset, configFile: inputs.configFile, sets: inputs.sets }).name
        : (f.grid as string);
    const launcher = launcherFromFlags(f);
    const r = await runSelection({
      grid,
      preset: inputs.preset,
      out: studyOutFromFlags(f, path.join('selection', inputs.preset, grid)),
      seeds: f.seeds === undefined ? [0, 1] : intListFlag(f, 'seeds'),
      jobs: f.jobs === undefined ? undefined : intFlag(f, 'jobs', 1),
      sets: inputs.sets,
      configFile: inputs.configFile,
      backend: f.backend as string | undefined,
      launcher,
      log: (l) => process.stderr.write(l + '\n'),
    });
    if (!('chosen' in r)) return reportPending('select', r.pending, f['dry-run'] === true);
    console.log(`\n${r.table}\n\nchosen: ${r.chosen.variant} (${r.chosen.sets.join(' ')})`);
    return r.failed.length ? 1 : 0;
  },
};
