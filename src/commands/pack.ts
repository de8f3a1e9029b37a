// `introllm pack DIR…`: gzip the per-run records (eval.json, metrics.jsonl, evals/*) of finished studies before they
// are committed, or restore them with --unpack. Every reader of the kit takes either form (src/io/packed.ts).
import { parseArgs } from 'node:util';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { packResults } from '../io/packed';

export const command: Command = {
  summary: 'Compress (or with --unpack restore) the per-run records of finished studies; the kit reads either form.',
  usage: 'introllm pack DIR [DIR …] [--unpack]   (e.g. introllm pack results/ablations/tiny/gate)',
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: { unpack: { type: 'boolean', default: false } }, strict: true, allowPositionals: true });
    if (positionals.length === 0) throw new KitError('name at least one folder, e.g. introllm pack results/ablations/tiny/gate');
    for (const dir of positionals) {
      const r = packResults(dir, { unpack: values.unpack });
      for (const s of r.skipped) process.stderr.write(`kept ${s.file}: ${s.why}\n`);
      const mb = (n: number) => (n / 1e6).toFixed(2);
      console.log(`${dir}: ${values.unpack ? 'unpacked' : 'packed'} ${r.written.length} files, ${mb(r.bytesBefore)} MB → ${mb(r.bytesAfter)} MB`);
    }
    return 0;
  },
};
