// `introllm reproduce` / `npm run reproduce`: the kit's main job (see src/experiments/reproduce.ts).
import * as os from 'node:os';
import type { Command } from '../cli';
import { reproduce } from '../experiments/reproduce';
import { intFlag, intListFlag, parseFlags } from './args';

export const command: Command = {
  summary: 'Train IntroLLM and the baselines over several seeds, evaluate, and write results/<preset>/ (resumable).',
  usage: 'introllm reproduce [--preset smoke|tiny|small|paper] [--out DIR] [--jobs 2] [--methods a,b] [--seeds 0,1,2] [--set key=value …] [--backend NAME]',
  async run(argv) {
    const f = parseFlags(argv, {
      preset: { type: 'string', default: 'tiny' }, out: { type: 'string' }, jobs: { type: 'string' }, methods: { type: 'string' },
      seeds: { type: 'string' }, set: { type: 'string', multiple: true }, backend: { type: 'string' },
    });
    const seeds = f.seeds === undefined ? undefined : intListFlag(f, 'seeds');
    const r = await reproduce({
      preset: f.preset as string, out: f.out as string | undefined, jobs: intFlag(f, 'jobs', Math.max(1, Math.min(2, os.cpus().length))),
      backend: f.backend as string | undefined, sets: (f.set as string[] | undefined) ?? [], seeds,
      methods: f.methods === undefined ? undefined : (f.methods as string).split(','), log: (l) => process.stderr.write(l + '\n'),
    });
    console.log(`\n${r.table}\n\nresults: ${r.out}/summary.json`);
    if (r.failed.length) {
      console.error(`introllm reproduce: ${r.failed.length} run(s) failed: ${r.failed.join(', ')}; run the same command again to resume them`);
      return 1;
    }
    return 0;
  },
};
