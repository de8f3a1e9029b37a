// `introllm ablate --grid NAME` (or `--grid-file F`, a grid defined in a JSON or YAML file): one ablation grid
// (src/experiments/ablations.ts) over seeds, written to runs/ablations/<preset>/<grid>/ (--reference: the committed
// results/ablations/<preset>/<grid>/) with table.md and table.json (variant, accuracy, 95% CI, Pass@k, the paired
// difference to the grid's default) and the bar figure figures/ablation.{html,png} (each variant minus the default).
import * as path from 'node:path';
import type { Command } from '../cli';
import type { MethodSummary } from '../experiments/summary';
import { KitError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import type { AblationTable } from '../plots';
import { ABLATION_GRIDS, ablationGrid, defaultVariantOf, loadAblationGridFile, writeFolderGrid } from '../experiments/ablations';
import { folderContext, writeAblationFigure } from '../experiments/figures';
import { Comparisons, REPRODUCE_PRESETS, reproduce, runDirOf } from '../experiments/reproduce';
import { intFlag, intListFlag, parseFlags } from './args';
import { CONFIG_FLAGS, configInputs, configUsage, STUDY_OUT_FLAGS, studyOutFromFlags, studyOutUsage } from './config-flags';
import { LAUNCH_FLAGS, LAUNCH_USAGE, launcherFromFlags, reportPending } from './launch-flags';

export const command: Command = {
  summary: 'Run an ablation grid over seeds and write a table with confidence intervals (resumable).',
  usage:
    `introllm ablate (--grid ${Object.keys(ABLATION_GRIDS).join('|')} | --grid-file FILE.yaml|FILE.json) ${configUsage(Object.keys(REPRODUCE_PRESETS))} [--seeds 0,1,2 (default: the preset's)] ${studyOutUsage('ablations/<preset>/<grid>')} [--jobs N] [--backend NAME] ${LAUNCH_USAGE}\n\n` +
    '  A grid file: {name, description, variants: [{label, method (default introllm), set: ["key=value", …]}], default?: LABEL};\n' +
    '  see docs/configuration.md and configs/grid-lr-temp.yaml.',
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
      throw new KitError(`give one of --grid (built in: ${Object.keys(ABLATION_GRIDS).join(', ')}) or --grid-file FILE`);
    }
    const fromFile =
      typeof f['grid-file'] === 'string'
        ? loadAblationGridFile(f['grid-file'], { preset: REPRODUCE_PRESETS[inputs.preset].trainPreset, configFile: inputs.configFile, sets: inputs.sets })
        : null;
    const gridName = fromFile ? fromFile.name : (f.grid as string);
    const grid = ablationGrid(gridName);
    const seeds = f.seeds === undefined ? undefined : intListFlag(f, 'seeds');
    const out = studyOutFromFlags(f, path.join('ablations', inputs.preset, gridName));
    const launcher = launcherFromFlags(f);
    const r = await reproduce({
      preset: inputs.preset,
      out,
      jobs: f.jobs === undefined ? undefined : intFlag(f, 'jobs', 1),
      backend: f.backend as string | undefined,
      sets: inputs.sets,
      configFile: inputs.configFile,
      seeds,
      variants: grid.variants,
      defaultVariant: defaultVariantOf(grid),
      launcher,
      log: (l) => process.stderr.write(l + '\n'),
    });
    if (fromFile) writeFolderGrid(out, gridName, grid); // `introllm figures` finds the grid there
    if (r.pending.length) return reportPending('ablate', r.pending, f['dry-run'] === true);
    await writeAblationOutputs(out, gridName, inputs.preset, r.summary.methods, r.comparisons, (l) => process.stderr.write(l + '\n'));
    console.log(`\n${grid.description}\n\n${r.table}\n\nresults: ${out}/table.json, ${out}/figures/ablation.html`);
    return r.failed.length ? 1 : 0;
  },
};

/** table.json of an ablation folder: each variant's scores and, against the grid's default, its paired difference. */
export function ablationTableOf(gridName: string, methods: Record<string, MethodSummary>, cmp: Comparisons): AblationTable & { description: string } {
  const grid = ablationGrid(gridName);
  return {
    grid: gridName,
    description: grid.description,
    default_variant: cmp.default_variant,
    rows: Object.entries(methods).map(([variant, m]) => ({
      variant,
      accuracy: m.accuracy,
      ci95: m.ci95,
      pass_at_k: m.pass_at_k,
      pass_ci95: m.pass_ci95,
      seeds: m.seeds,
      ...(cmp.vs_default?.[variant] ? { vs_default: cmp.vs_default[variant] } : {}),
    })),
  };
}

/** The before-RL model's accuracy minus the default's (a fraction), from the comparisons, or null. */
export function beforeRlDeltaOf(cmp: Pick<Comparisons, 'default_variant' | 'vs_before_rl'>): number | null {
  const d = cmp.default_variant ? cmp.vs_before_rl?.[cmp.default_variant] : undefined;
  return d ? -d.diff : null;
}

/**
 * table.json and the bar figure figures/ablation.{html,png} of an ablation folder, from its summary (no training): each
 * variant's paired difference to the grid's default with its CI, titled with the testbed and n.
 */
export async function writeAblationOutputs(
  out: string,
  gridName: string,
  preset: string,
  methods: Record<string, MethodSummary>,
  cmp: Comparisons,
  log: (line: string) => void,
): Promise<void> {
  const table = ablationTableOf(gridName, methods, cmp);
  writeJsonAtomic(path.join(out, 'table.json'), table);
  const labels = Object.keys(methods);
  const seeds = [...new Set(Object.values(methods).flatMap((m) => m.seeds))].sort((a, b) => a - b);
  const context = folderContext((l, s) => runDirOf(out, l, s), cmp.default_variant ?? labels[0], seeds);
  const fig = await writeAblationFigure(out, table, {
    context,
    beforeRlDelta: beforeRlDeltaOf(cmp),
    pageTitle: `IntroLLM kit: ablation '${gridName}' (${preset})`,
  });
  if (fig.pngSkipped) log(`figures: HTML only (${fig.pngSkipped})`);
}
