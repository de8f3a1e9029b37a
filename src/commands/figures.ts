// `introllm figures DIR…`: rebuilds summary.json, table.md and every figure of finished reproduction or ablation
// folders from the data they hold (each run's eval.json and metrics.jsonl), without training and without adding a
// session to the manifest. What it is for: re-rendering the committed results after a change to the plots (or to how
// HTML pages include plotly.js), so figures never have to be edited or committed by hand. With --figures-only the
// figures are rebuilt from the folder's summary.json / table.json as they are, which are left untouched (a folder
// made by an older kit keeps its numbers; an ablation grid without recorded paired differences gets them computed for
// its figure only). An evaluation folder (`introllm eval --out`, e.g. a τ sweep) gets figures/tau-sweep.png.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { Rng } from '../rng';
import type { AblationTable, Summary } from '../plots';
import { runDirOf, summariseReproduction } from '../experiments/reproduce';
import { ablationGrid, defaultVariantOf, registerFolderGrid } from '../experiments/ablations';
import { folderContext, folderDefaultVariant, isEvalFolder, writeAblationFigure, writeReproductionFigures, writeSweepFigure } from '../experiments/figures';
import { readEval } from '../experiments/run-files';
import { pairedDifference, PairedDifference, SeedEval } from '../experiments/summary';
import { writeAblationOutputs } from './ablate';

interface FolderConfig {
  preset: string;
  variants: { label: string; sets?: string[] }[];
  seeds: number[];
  runs: Record<string, { eval: { k: number } }>;
}

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

function readJson<T>(file: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new KitError(
      `${file}: ${(e as Error).message.split('\n')[0]} (--figures-only reads the folder's summary; run without it to rebuild the summary first)`,
    );
  }
}

/** The seeds' evaluations of one label of a folder. */
function evalsOf(dir: string, label: string, seeds: readonly number[]): SeedEval[] {
  return seeds.flatMap((s): SeedEval[] => {
    const e = readEval(runDirOf(dir, label, s));
    return e ? [{ seed: s, eval: e }] : [];
  });
}

/** The figures of a finished folder from its summary.json (and table.json), which are not written. */
async function figuresOnly(dir: string, cfg: FolderConfig, grid: string | null, log: (line: string) => void): Promise<string[]> {
  type Saved = Summary & { default_variant?: string; vs_before_rl?: Record<string, PairedDifference> };
  const summary = readJson<Saved>(path.join(dir, 'summary.json'));
  const labels = Object.keys(summary.methods);
  const r = await writeReproductionFigures({
    out: dir,
    labels,
    seeds: cfg.seeds,
    runDir: (l, s) => runDirOf(dir, l, s),
    summary,
    title: `IntroLLM kit: ${cfg.preset} reproduction`,
  });
  if (r.pngSkipped) log(`figures: HTML only (${r.pngSkipped})`);
  const files = [...r.files];
  if (grid === null) return files;
  const table = readJson<AblationTable & { description?: string }>(path.join(dir, 'table.json'));
  const def = folderDefaultVariant(
    table.rows.map((x) => x.variant),
    table.default_variant ?? summary.default_variant,
    defaultVariantOf(ablationGrid(grid)),
    cfg.variants.map((v) => ({ label: v.label, sets: v.sets ?? [] })),
  );
  let shown: AblationTable & { description?: string } = table;
  if (def !== null && !table.rows.some((x) => x.vs_default)) {
    // An older folder: pair every variant with the default here, as `introllm ablate` now records it.
    const base = evalsOf(dir, def, cfg.seeds);
    shown = {
      ...table,
      default_variant: def,
      rows: table.rows.map((x) =>
        x.variant === def ? x : { ...x, vs_default: pairedDifference(evalsOf(dir, x.variant, cfg.seeds), base, new Rng(0).fork(`paired:${x.variant}:${def}`)) },
      ),
    };
    log(`${dir}: table.json has no paired differences; computed against '${def}' for the figure only`);
  }
  const d = def !== null ? summary.vs_before_rl?.[def] : undefined;
  const fig = await writeAblationFigure(dir, shown, {
    context: folderContext((l, s) => runDirOf(dir, l, s), def ?? labels[0], cfg.seeds),
    beforeRlDelta: d ? -d.diff : null,
    pageTitle: `IntroLLM kit: ablation '${grid}' (${cfg.preset})`,
  });
  if (fig.pngSkipped) log(`figures: HTML only (${fig.pngSkipped})`);
  return [...files, ...fig.files];
}

export const command: Command = {
  summary: 'Rebuild summary.json, table.md and the figures of finished reproduction, ablation or τ-sweep folders (no training).',
  usage: 'introllm figures [--figures-only] DIR [DIR …]   (e.g. introllm figures results/tiny results/ablations/tiny/* results/tau-sweep/tiny)',
  async run(argv) {
    const parsed = parseArgs({ args: argv, options: { 'figures-only': { type: 'boolean', default: false } }, strict: true, allowPositionals: true });
    const dirs = parsed.positionals;
    const only = parsed.values['figures-only'] === true;
    if (dirs.length === 0) throw new KitError('name at least one folder, e.g. introllm figures results/tiny');
    const log = (l: string) => process.stderr.write(l + '\n');
    for (const dir of dirs) {
      registerFolderGrid(dir); // an ablation grid from a grid file: its definition (grid.json) is in the folder
      registerFolderGrid(dir); // an ablation grid from a grid file: its definition (grid.json) is in the folder
      if (isEvalFolder(dir)) {
        const r = await writeSweepFigure(dir);
        if (r.pngSkipped) log(`figures: HTML only (${r.pngSkipped})`);
        console.log(`${dir}: τ sweep, ${r.files.length} figure file`);
        continue;
      }
      const cfg = readFolderConfig(dir);
      const labels = cfg.variants.map((v) => v.label);
      // An ablation folder (it has a table.json) pairs every variant with the grid's default.
      const tableJson = path.join(dir, 'table.json');
      const table = fs.existsSync(tableJson) ? (JSON.parse(fs.readFileSync(tableJson, 'utf8')) as { grid?: unknown; default_variant?: string }) : null;
      const grid = table === null ? null : table.grid;
      if (grid !== null && typeof grid !== 'string') throw new KitError(`${tableJson}: field 'grid' must name the ablation grid`);
      if (only) {
        const files = await figuresOnly(dir, cfg, grid, log);
        console.log(`${dir}: ${files.length} figure files (summary.json and tables left as they are)`);
        continue;
      }
      // The default the folder was run with (its table.json records it), so that a grid whose default has changed since
      // keeps its comparisons.
      const def =
        grid === null
          ? undefined
          : (folderDefaultVariant(
              labels,
              table?.default_variant,
              defaultVariantOf(ablationGrid(grid)),
              cfg.variants.map((v) => ({ label: v.label, sets: v.sets ?? [] })),
            ) ?? undefined);
      const r = await summariseReproduction(dir, labels, cfg.seeds, cfg.runs[labels[0]].eval.k, cfg.preset, log, { defaultVariant: def });
      if (grid !== null) await writeAblationOutputs(dir, grid, cfg.preset, r.summary.methods, r.comparisons, log);
      console.log(`${dir}: ${Object.keys(r.summary.methods).length} methods, ${r.figures.length} figure files`);
    }
    return 0;
  },
};
