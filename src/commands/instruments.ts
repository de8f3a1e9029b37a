// `introllm instruments`: why the temperature head learns, or does not, on a testbed: temperature-only RL with a large
// φ budget, the best in-range probe cloned into the head, headroom on RL-trained θ, IntroLLM's θ at fixed τ, and the
// φ gradient's signal-to-noise (src/experiments/instruments.ts). All on the validation split; a killed study resumes.
import * as path from 'node:path';
import { initBackend } from '../backend';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { INSTRUMENT_PARTS, InstrumentPart, instrumentsTable, runInstruments } from '../experiments/instruments';
import { intFlag, intListFlag, parseFlags } from './args';
import { CONFIG_FLAGS, configInputs, configUsage, STUDY_OUT_FLAGS, studyOutFromFlags, studyOutUsage } from './config-flags';

export const command: Command = {
  summary:
    "Measure why the temperature head learns or not on a testbed (validation split): temperature-only RL, behaviour cloning of a probe, headroom after RL, θ at fixed τ, the φ gradient's signal-to-noise.",
  usage: `introllm instruments ${configUsage()} [--parts ${INSTRUMENT_PARTS.join(',')}] [--seeds 0,1,2] [--problems 400] [--k 4] [--temp-steps 200] [--trained DIR (default: results/<preset>)] [--methods fixed-1.0,introllm] ${studyOutUsage('instruments/<preset>')} [--backend NAME]`,
  async run(argv) {
    const f = parseFlags(argv, {
      ...CONFIG_FLAGS,
      ...STUDY_OUT_FLAGS,
      parts: { type: 'string' },
      seeds: { type: 'string', default: '0,1,2' },
      problems: { type: 'string' },
      k: { type: 'string' },
      'temp-steps': { type: 'string' },
      trained: { type: 'string' },
      methods: { type: 'string', default: 'fixed-1.0,introllm' },
      backend: { type: 'string' },
    });
    const inputs = configInputs(f);
    const preset = inputs.preset;
    const parts = ((f.parts as string | undefined) ?? INSTRUMENT_PARTS.join(','))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const p of parts)
      if (!(INSTRUMENT_PARTS as readonly string[]).includes(p)) throw new KitError(`--parts: unknown part '${p}'; valid: ${INSTRUMENT_PARTS.join(', ')}`);
    const out = studyOutFromFlags(f, path.join('instruments', preset));
    await initBackend(f.backend as string | undefined);
    const summary = await runInstruments({
      preset,
      out,
      parts: parts as InstrumentPart[],
      seeds: intListFlag(f, 'seeds'),
      problems: intFlag(f, 'problems', 400),
      k: intFlag(f, 'k', 4),
      tempSteps: intFlag(f, 'temp-steps', 200),
      trained: (f.trained as string | undefined) ?? path.join('results', preset),
      trainedMethods: (f.methods as string)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      sets: inputs.sets,
      configFile: inputs.configFile,
    });
    console.log(instrumentsTable(summary));
    console.log(`→ ${path.join(out, 'summary.json')}`);
    return 0;
  },
};
