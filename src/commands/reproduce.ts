// `introllm reproduce` / `npm run reproduce`: the kit's main job (see src/experiments/reproduce.ts). A user's run goes
// to the git-ignored runs/<preset>/ (resumable there) and ends with its table beside the committed reference
// results/<preset>/, saying per method whether its accuracy falls inside the reference's 95% CI. `--reference`
// (re)generates the committed reference itself.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { REPRODUCE_PRESETS, reproduce } from '../experiments/reproduce';
import { compareWithReference, MethodSummary } from '../experiments/summary';
import { intFlag, intListFlag, parseFlags } from './args';
import { CONFIG_FLAGS, configInputs, configUsage, STUDY_OUT_FLAGS, studyOutFromFlags, studyOutUsage } from './config-flags';
import { LAUNCH_FLAGS, LAUNCH_USAGE, launcherFromFlags, reportPending } from './launch-flags';

/** The methods of a reference folder's summary.json, or null when it has none (not yet generated). */
function readReference(dir: string): Record<string, MethodSummary> | null {
  const file = path.join(dir, 'summary.json');
  if (!fs.existsSync(file)) return null;
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { methods: Record<string, MethodSummary> }).methods;
  } catch (e) {
    throw new KitError(`${file}: the reference summary cannot be read (${(e as Error).message.split('\n')[0]})`);
  }
}

export const command: Command = {
  summary: 'Train IntroLLM and the baselines over several seeds, evaluate, write runs/<preset>/ (resumable) and compare with the committed results/<preset>/.',
  usage: `introllm reproduce ${configUsage(Object.keys(REPRODUCE_PRESETS))} ${studyOutUsage('<preset>')} [--jobs N (default: 2, fewer where memory is short)] [--methods a,b (default: the preset's)] [--seeds 0,1,2 (default: the preset's)] [--backend NAME] ${LAUNCH_USAGE}`,
  async run(argv) {
    const f = parseFlags(argv, {
      ...CONFIG_FLAGS,
      ...STUDY_OUT_FLAGS,
      jobs: { type: 'string' },
      methods: { type: 'string' },
      seeds: { type: 'string' },
      backend: { type: 'string' },
      ...LAUNCH_FLAGS,
    });
    const inputs = configInputs(f, { presets: Object.keys(REPRODUCE_PRESETS) });
    const refDir = path.join('results', inputs.preset);
    const out = studyOutFromFlags(f, inputs.preset);
    const seeds = f.seeds === undefined ? undefined : intListFlag(f, 'seeds');
    const launcher = launcherFromFlags(f);
    const r = await reproduce({
      preset: inputs.preset,
      out,
      jobs: f.jobs === undefined ? undefined : intFlag(f, 'jobs', 1),
      backend: f.backend as string | undefined,
      sets: inputs.sets,
      configFile: inputs.configFile,
      seeds,
      methods: f.methods === undefined ? undefined : (f.methods as string).split(','),
      launcher,
      log: (l) => process.stderr.write(l + '\n'),
    });
    if (r.pending.length) return reportPending('reproduce', r.pending, f['dry-run'] === true);
    console.log(`\n${r.table}\n\nresults: ${r.out}/summary.json`);
    const ref = path.resolve(out) === path.resolve(refDir) ? null : readReference(refDir);
    if (ref) console.log(`\nThis run beside the committed reference ${refDir}/ (Avg@k):\n\n${compareWithReference(r.summary.methods, ref, refDir).table}`);
    if (r.failed.length) {
      console.error(`introllm reproduce: ${r.failed.length} run(s) failed: ${r.failed.join(', ')}; run the same command again to resume them`);
      return 1;
    }
    return 0;
  },
};
