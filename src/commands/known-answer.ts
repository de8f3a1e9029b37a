// `introllm known-answer`: does the temperature head learn a per-token rule whose answer is known? Trains the head on
// the known-answer task (constructed model, closed-form optimal τ per token class, task.optimalTau) over seeds and
// measures its τ per class before and after (src/experiments/known-answer.ts). A killed study resumes.
import * as path from 'node:path';
import { initBackend } from '../backend';
import type { Command } from '../cli';
import { knownAnswerTable, runKnownAnswer } from '../experiments/known-answer';
import { intFlag, intListFlag, parseFlags } from './args';

export const command: Command = {
  summary: 'Train the temperature head on the known-answer task (closed-form optimal τ per token class) and check that it recovers the rule.',
  usage: 'introllm known-answer [--seeds 0,1,2] [--out runs/known-answer | --reference] [--problems 256] [--k 4] [--set task.optimalTau=[0.6,1.4] …] [--no-png] [--backend NAME]',
  async run(argv) {
    const f = parseFlags(argv, {
      seeds: { type: 'string', default: '0,1,2' }, out: { type: 'string' }, reference: { type: 'boolean', default: false },
      problems: { type: 'string' }, k: { type: 'string' }, set: { type: 'string', multiple: true }, 'no-png': { type: 'boolean', default: false }, backend: { type: 'string' },
    });
    const out = (f.out as string | undefined) ?? path.join(f.reference ? 'results' : 'runs', 'known-answer');
    await initBackend(f.backend as string | undefined);
    const summary = await runKnownAnswer({
      out, seeds: intListFlag(f, 'seeds'), sets: (f.set as string[] | undefined) ?? [], problems: intFlag(f, 'problems', 256), k: intFlag(f, 'k', 4), png: !(f['no-png'] as boolean),
    });
    console.log(knownAnswerTable(summary));
    console.log(`→ ${path.join(out, 'summary.json')}`);
    return summary.checks.passed ? 0 : 1;
  },
};
