// `introllm known-answer`: does the temperature head learn a per-token rule whose answer is known? Trains the head on
// the known-answer task (constructed model, closed-form optimal τ per token class, task.optimalTau) over seeds and
// measures its τ per class before and after (src/experiments/known-answer.ts). A killed study resumes.
import * as path from 'node:path';
import { initBackend } from '../backend';
import type { Command } from '../cli';
import { knownAnswerTable, runKnownAnswer } from '../experiments/known-answer';
import { intFlag, intListFlag, parseFlags } from './args';
import { CONFIG_FLAGS, configInputs, STUDY_OUT_FLAGS, studyOutFromFlags, studyOutUsage } from './config-flags';

export const command: Command = {
  summary: 'Train the temperature head on the known-answer task (closed-form optimal τ per token class) and check that it recovers the rule.',
  usage:
    `introllm known-answer [--seeds 0,1,2] ${studyOutUsage('known-answer')} [--problems 256] [--k 4] [--config FILE.yaml|FILE.json] [--set task.optimalTau=[0.6,1.4] …] [--no-png] [--backend NAME]\n\n` +
    '  Every run resolves the known-answer preset < --config FILE (whose `preset`, if any, must be known-answer) < --set.',
  async run(argv) {
    const f = parseFlags(argv, {
      seeds: { type: 'string', default: '0,1,2' },
      ...STUDY_OUT_FLAGS,
      config: CONFIG_FLAGS.config,
      set: CONFIG_FLAGS.set,
      problems: { type: 'string' },
      k: { type: 'string' },
      'no-png': { type: 'boolean', default: false },
      backend: { type: 'string' },
    });
    const inputs = configInputs(f, { presets: ['known-answer'], defaultPreset: 'known-answer' });
    const out = studyOutFromFlags(f, 'known-answer');
    await initBackend(f.backend as string | undefined);
    const summary = await runKnownAnswer({
      out,
      seeds: intListFlag(f, 'seeds'),
      sets: inputs.sets,
      configFile: inputs.configFile,
      problems: intFlag(f, 'problems', 256),
      k: intFlag(f, 'k', 4),
      png: !(f['no-png'] as boolean),
    });
    console.log(knownAnswerTable(summary));
    console.log(`→ ${path.join(out, 'summary.json')}`);
    return summary.checks.passed ? 0 : 1;
  },
};
