// `introllm ablate --grid NAME`: one ablation grid (src/experiments/ablations.ts) over seeds, written to
// results/ablations/<preset>/<grid>/ with table.md and table.json (variant, accuracy, 95% CI, Pass@k) and the bar
// figure figures/ablation.{html,png}.
import * as path from 'node:path';
import type { Command } from '../cli';
import type { MethodSummary } from '../experiments/summary';
import { KitError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { ablationFigure, galleryHtml, renderPng } from '../plots';
import { ABLATION_GRIDS, ablationGrid, defaultVariantOf } from '../experiments/ablations';
import { Comparisons, reproduce } from '../experiments/reproduce';
import { intFlag, intListFlag, parseFlags } from './args';
import { LAUNCH_FLAGS, LAUNCH_USAGE, launcherFromFlags, reportPending } from './launch-flags';

export const command: Command = {
  summary: 'Run an ablation grid over seeds and write a table with confidence intervals (resumable).',
  usage: `introllm ablate --grid ${Object.keys(ABLATION_GRIDS).join('|')} [--preset tiny] [--seeds 0,1,2] [--out DIR] [--jobs N] [--set key=value …] [--backend NAME] ${LAUNCH_USAGE}`,
  async run(argv) {
    const f = parseFlags(argv, {
      grid: { type: 'string' }, preset: { type: 'string', default: 'tiny' }, seeds: { type: 'string' }, out: { type: 'string' },
      jobs: { type: 'string' }, set: { type: 'string', multiple: true }, backend: { type: 'string' }, ...LAUNCH_FLAGS,
    });
    if (typeof f.grid !== 'string') throw new KitError(`--grid is required; valid: ${Object.keys(ABLATION_GRIDS).join(', ')}`);
    const grid = ablationGrid(f.grid);
    const seeds = f.seeds === undefined ? undefined : intListFlag(f, 'seeds');
    const out = (f.out as string | undefined) ?? path.join('results', 'ablations', f.preset as string, f.grid);
    const launcher = launcherFromFlags(f);
    const r = await reproduce({
      preset: f.preset as string, out, jobs: f.jobs === undefined ? undefined : intFlag(f, 'jobs', 1), backend: f.backend as string | undefined,
      sets: (f.set as string[] | undefined) ?? [], seeds, variants: grid.variants, defaultVariant: defaultVariantOf(grid), launcher,
      log: (l) => process.stderr.write(l + '\n'),
    });
    if (r.pending.length) return reportPending('ablate', r.pending, f['dry-run'] === true);
    await writeAblationOutputs(out, f.grid, f.preset as string, r.summary.methods, r.comparisons, (l) => process.stderr.write(l + '\n'));
    console.log(`\n${grid.description}\n\n${r.table}\n\nresults: ${out}/table.json, ${out}/figures/ablation.html`);
    return r.failed.length ? 1 : 0;
  },
};

/** table.json and the bar figure figures/ablation.{html,png} of an ablation folder, from its summary (no training). */
export async function writeAblationOutputs(out: string, gridName: string, preset: string, methods: Record<string, MethodSummary>, cmp: Comparisons,
  log: (line: string) => void): Promise<void> {
  const grid = ablationGrid(gridName);
  const table = {
    grid: gridName, description: grid.description, default_variant: cmp.default_variant,
    rows: Object.entries(methods).map(([variant, m]) => ({
      variant, accuracy: m.accuracy, ci95: m.ci95, pass_at_k: m.pass_at_k, pass_ci95: m.pass_ci95, seeds: m.seeds,
      ...(cmp.vs_default?.[variant] ? { vs_default: cmp.vs_default[variant] } : {}),
    })),
  };
  writeJsonAtomic(path.join(out, 'table.json'), table);
  const fig = ablationFigure(table, { title: `Ablation '${gridName}' at the ${preset} preset (95% CIs)` });
  const page = path.join(out, 'figures', 'ablation.html');
  writeFileAtomic(page, galleryHtml([{ title: grid.description, fig }], `IntroLLM kit: ablation '${gridName}' (${preset})`, [], page));
  const png = await renderPng([{ file: path.join(out, 'figures', 'ablation.png'), fig }]);
  if (png.skipped) log(`figures: HTML only (${png.skipped})`);
}
