// `introllm tb DIR…`: TensorBoard event files (RUN/tb/events.out.tfevents.*) for every run folder at or below each DIR,
// from its metrics.jsonl (plain or packed). Training writes them itself; this is for runs made before it did, and for
// a tb/ folder deleted. Idempotent: steps already in a run's event files are not written again (docs/tensorboard.md).
import { parseArgs } from 'node:util';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { findRunDirs, writeRunEvents } from '../train/tensorboard';

export const command: Command = {
  summary: 'Write TensorBoard event files (RUN/tb/) for every run folder under DIR from its metrics.jsonl; skips steps already written.',
  usage: 'introllm tb DIR [DIR …]   (e.g. introllm tb runs/tiny, then tensorboard --logdir runs/tiny)',
  async run(argv) {
    const { positionals } = parseArgs({ args: argv, options: {}, strict: true, allowPositionals: true });
    if (positionals.length === 0) throw new KitError('name at least one folder, e.g. introllm tb runs/tiny');
    for (const root of positionals) {
      const runs = findRunDirs(root);
      if (runs.length === 0) throw new KitError(`${root}: no run folder (one holding a metrics.jsonl) at or below it`);
      let written = 0;
      for (const dir of runs) {
        const r = writeRunEvents(dir);
        written += r.written;
        console.log(
          r.written > 0
            ? `${dir}: wrote ${r.written} step${r.written === 1 ? '' : 's'} (to step ${r.lastStep}) to ${r.file}`
            : `${dir}: up to date (step ${r.lastStep})`,
        );
      }
      if (runs.length > 1) console.log(`${root}: ${runs.length} runs, ${written} steps written`);
    }
    return 0;
  },
};
