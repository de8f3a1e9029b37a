// `introllm reproduce` / `npm run reproduce`: the kit's main job (see src/experiments/reproduce.ts). A user's run goes
// to the git-ignored runs/<preset>/ (resumable there) and ends with its table beside the committed reference
// results/<preset>/, saying per method whether its accuracy falls inside the reference's 95% CI. `--reference`
// (re)generates the committed reference itself.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { reproduce } from '../experiments/reproduce';
import { compareWithReference, MethodSummary } from '../experiments/summary';
import { intFlag, intListFlag, parseFlags } from './args';
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
  usage: 'introllm reproduce [--preset smoke|tiny|small|paper] [--out DIR | --reference] [--jobs N (default: 2, fewer where memory is short)] [--methods a,b] [--seeds 0,1,2] [--set key=value …] [--backend NAME] ' + LAUNCH_USAGE,
  async run(argv) {
    const f = parseFlags(argv, {
      preset: { type: 'string', default: 'tiny' }, out: { type: 'string' }, jobs: { type: 'string' }, methods: { type: 'string' },
      seeds: { type: 'string' }, set: { type: 'string', multiple: true }, backend: { type: 'string' }, reference: { type: 'boolean', default: false }, ...LAUNCH_FLAGS,
    });
    const refDir = path.join('results', f.preset as string);
    if (f.reference && f.out !== undefined) throw new KitError('--reference writes the committed results/<preset>/; give either it or --out, not both');
    const out = f.reference ? refDir : (f.out as string | undefined) ?? path.join('runs', f.preset as string);
    const seeds = f.seeds === undefined ? undefined : intListFlag(f, 'seeds');
    const launcher = launcherFromFlags(f);
    const r = await reproduce({
      preset: f.preset as string, out, jobs: f.jobs === undefined ? undefined : intFlag(f, 'jobs', 1),
      backend: f.backend as string | undefined, sets: (f.set as string[] | undefined) ?? [], seeds,
      methods: f.methods === undefined ? undefined : (f.methods as string).split(','), launcher, log: (l) => process.stderr.write(l + '\n'),
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
