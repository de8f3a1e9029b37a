// `introllm compare DIR:LABEL DIR:LABEL`: the paired difference in Avg@k between two evaluated methods of any two
// study folders (a reproduction, an ablation grid, an eval sweep, a before-rl folder), on the problems and sampling
// seeds they share: e.g. an ablation variant against a baseline of the reference run.
import { parseArgs } from 'node:util';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { readLabelEvals } from '../experiments/run-files';
import { pairedDifference, signedPoints } from '../experiments/summary';
import { Rng } from '../rng';

function side(arg: string): { dir: string; label: string } {
  const i = arg.lastIndexOf(':');
  if (i <= 0 || i === arg.length - 1) throw new KitError(`'${arg}': expected DIR:LABEL, e.g. results/tiny:fixed-1.0`);
  return { dir: arg.slice(0, i), label: arg.slice(i + 1) };
}

export const command: Command = {
  summary: 'Paired difference in Avg@k between two evaluated methods of any two study folders (same problems and seeds).',
  usage: 'introllm compare DIR:LABEL DIR:LABEL [--json]   (e.g. introllm compare results/ablations/tiny/schedule:joint results/tiny:fixed-1.0)',
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, strict: true, allowPositionals: true });
    if (positionals.length !== 2) throw new KitError('name two sides, DIR:LABEL DIR:LABEL');
    const [a, b] = positionals.map(side);
    const d = pairedDifference(readLabelEvals(a.dir, a.label), readLabelEvals(b.dir, b.label), new Rng(0).fork(`paired:${a.label}:${b.label}`));
    if (values.json) console.log(JSON.stringify({ a: positionals[0], b: positionals[1], ...d }));
    else {
      console.log(
        `${positionals[0]} − ${positionals[1]}: ${signedPoints(d.diff)} points [${signedPoints(d.ci95[0])}, ${signedPoints(d.ci95[1])}] (paired 95% CI; ` +
          `${d.problems} problems × seeds ${d.seeds.join(',')}; detectable at 80% power: ${(100 * d.mde80).toFixed(1)})`,
      );
    }
    return 0;
  },
};
