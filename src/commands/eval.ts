// `introllm eval`: held-out Avg@k / Pass@k of a model under one or more temperature methods, with no training — the
// base model before RL, a τ sweep ("does temperature matter for this model and task?"), or a new model's baselines.
// Every method samples with each of --seeds; CIs resample seeds, then problems, as in a reproduction's summary.
// With --out, each (method, seed) is written when done together with its resolved config, and a re-run with the same
// config keeps it: a killed sweep resumes, and so does a killed evaluation, from the chunks recorded in its
// seed-<s>.partial.jsonl (src/eval/partial.ts). A live line shows the evaluation under way and the overall ETA.
import * as path from 'node:path';
import { initBackend, loadModelOnBackend } from '../backend';
import type { Command } from '../cli';
import { ExperimentConfig, resolveConfig } from '../config';
import { EvalResult } from '../eval/evaluate';
import { evalJournalFileOf, removeEvalJournal } from '../eval/partial';
import { KitError } from '../errors';
import { METHOD_NAMES, methodOverride } from '../experiments/methods';
import { evalFileOf, readEvalFile } from '../experiments/run-files';
import { comparisonTables, MethodSummary, reportedKs, SeedEval, summariseMethod } from '../experiments/summary';
import { ONE_RECORD_PER_LINE, writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { ProgressBoard, reportProgress, reportsProgress } from '../io/progress';
import { requireModelFolder } from '../lm/config';
import { loadTokenizer } from '../lm/tokenizer';
import { Rng } from '../rng';
import { checkTaskPrompts, controllerFor, evaluatePolicy } from '../rl/trainer';
import { modelDirFor, taskFromConfig } from '../tasks/registry';
import { intListFlag, parseFlags } from './args';
import { CONFIG_FLAGS, configInputs, configUsage, setLayers } from './config-flags';

const DEFAULT_METHODS = 'fixed-0.6,fixed-1.0';
const DEFAULT_SEEDS = '0';

/** A finished evaluation in `file` made with exactly `cfg` (a killed `eval --out` resumes), else null. */
function finished(file: string, cfg: ExperimentConfig): EvalResult | null {
  const saved = readEvalFile(file) as (EvalResult & { config?: unknown }) | null; // null when torn: evaluate again
  return saved && JSON.stringify(saved.config) === JSON.stringify(cfg) ? saved : null;
}

export const command: Command = {
  summary: 'Evaluate a model under temperature methods without training (base-model baselines, τ sweeps).',
  usage: `introllm eval ${configUsage()} [--methods A,B,… (default: ${DEFAULT_METHODS}; any of ${METHOD_NAMES.join(', ')})] [--seeds LIST (default: ${DEFAULT_SEEDS})] [--out DIR] [--backend NAME]`,
  async run(argv) {
    const f = parseFlags(argv, {
      ...CONFIG_FLAGS,
      methods: { type: 'string', default: DEFAULT_METHODS },
      seeds: { type: 'string', default: DEFAULT_SEEDS },
      out: { type: 'string' },
      backend: { type: 'string' },
    });
    const inputs = configInputs(f);
    const methods = (f.methods as string)
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    if (methods.length === 0) throw new KitError('--methods is empty');
    const seeds = intListFlag(f, 'seeds');
    const sets = inputs.sets;
    // Resolve every method's config first, so a typo fails before any model is loaded.
    const cfgs: Record<string, ExperimentConfig> = Object.fromEntries(
      methods.map((m) => [
        m,
        resolveConfig({
          preset: inputs.preset,
          configFile: inputs.configFile,
          overrides: [{ source: `method ${m}`, kind: 'method', value: methodOverride(m) }, ...setLayers(inputs)],
        }),
      ]),
    );
    const base = cfgs[methods[0]];
    const modelDir = modelDirFor(base);
    requireModelFolder(modelDir);
    await initBackend(f.backend as string | undefined);
    const task = taskFromConfig(base.task);
    const tok = await loadTokenizer(modelDir);
    checkTaskPrompts(base, task, tok, { training: false });
    const { model } = loadModelOnBackend(modelDir, { trainable: false });
    const out = f.out as string | undefined;
    const summary: Record<string, MethodSummary> = {};
    // Progress: a live block here, or, under reproduce's job runner (the before-RL job), report lines for it
    // (src/io/progress.ts) counting the problems of every evaluation of this command.
    const child = reportsProgress();
    const log = (l: string) => process.stderr.write(l + '\n');
    const board = child ? null : new ProgressBoard({ log, total: methods.length * seeds.length, width: 1, noun: 'evaluations' });
    const say = (l: string) => (board ? board.log(l) : log(l));
    const all = methods.length * seeds.length;
    let index = 0;
    try {
      for (const m of methods) {
        const evals: SeedEval[] = [];
        for (const seed of seeds) {
          const i = index++;
          const cfg = { ...cfgs[m], seed };
          const file = out ? evalFileOf(out, m, seed) : null;
          const done = file ? finished(file, cfg) : null;
          if (done) {
            board?.skip();
            say(`eval ${m} seed ${seed}: kept from ${file}`);
            evals.push({ seed, eval: done });
            continue;
          }
          const controller = controllerFor(cfg, model.cfg.hiddenSize);
          const t0 = performance.now();
          const name = `${m} seed ${seed}`;
          board?.start(name, name);
          const onProgress = (d: number, total: number) => {
            board?.report(name, { phase: 'eval', done: d, total, unit: 'problems' });
            reportProgress({ phase: 'eval', done: i * total + d, total: all * total, unit: 'problems', detail: name });
          };
          const journal = file ? evalJournalFileOf(file) : undefined;
          let ev: EvalResult;
          try {
            ev = evaluatePolicy(model, tok, controller, task, cfg, 0, cfg.eval.split, { journal, onProgress });
          } finally {
            controller.dispose();
          }
          board?.end(name, true);
          if (file) writeJsonAtomic(file, { config: cfg, ...ev }, ONE_RECORD_PER_LINE);
          if (journal) removeEvalJournal(journal);
          say(
            `eval ${m} seed ${seed}: Avg@${cfg.eval.k} ${(100 * ev.report.avg.value).toFixed(1)}% in ${((performance.now() - t0) / 1000).toFixed(1)} s${board ? ` · ${board.overall()}` : ''}`,
          );
          evals.push({ seed, eval: ev });
        }
        summary[m] = summariseMethod(evals, reportedKs(base.eval.k), new Rng(0).fork(`summary:${m}`));
      }
    } finally {
      board?.close();
      model.dispose();
    }
    const table = comparisonTables(summary, base.eval.k);
    if (out) {
      writeJsonAtomic(path.join(out, 'summary.json'), {
        preset: inputs.preset,
        ...(inputs.configFile !== undefined ? { config_file: inputs.configFile } : {}),
        model: base.model.dir,
        seeds,
        sets,
        methods: summary,
      });
      writeFileAtomic(path.join(out, 'table.md'), table + '\n');
    }
    console.log(table);
    return 0;
  },
};
