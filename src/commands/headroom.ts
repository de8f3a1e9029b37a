// `introllm headroom`: how much could a per-token temperature policy gain on a preset's base model, before any RL?
// Evaluates the base model on the validation split under a fixed-τ grid, the heuristic baselines and the probe rules,
// and reports each one's paired difference to the best fixed τ (src/experiments/headroom.ts). A killed run resumes.
import * as path from 'node:path';
import { initBackend } from '../backend';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { BASELINES, DEFAULT_TAUS, headroomTable, runHeadroom } from '../experiments/headroom';
import { PROBES } from '../policy/probe';
import { intFlag, parseFlags } from './args';
import { CONFIG_FLAGS, configInputs, configUsage, STUDY_OUT_FLAGS, studyOutFromFlags, studyOutUsage } from './config-flags';

function listFlag(v: unknown, fallback: string[]): string[] {
  if (v === undefined) return fallback;
  const items = String(v)
    .split(',')
    .map((s) => s.trim());
  return items.length === 1 && items[0] === '' ? [] : items;
}

function tauList(v: unknown): number[] {
  if (v === undefined) return DEFAULT_TAUS;
  return String(v)
    .split(',')
    .map((s, i) => {
      const t = Number(s.trim());
      if (s.trim() === '' || !Number.isFinite(t) || t <= 0) throw new KitError(`--taus: item ${i + 1} ('${s}') is not a temperature > 0`);
      return t;
    });
}

export const command: Command = {
  summary: 'Measure the headroom of a base model for per-token temperature policies (fixed τ grid, baselines, probes) on the validation split.',
  usage: `introllm headroom ${configUsage()} ${studyOutUsage('headroom/<preset>')} [--problems 150] [--k 4] [--seed 0] [--taus ${DEFAULT_TAUS.join(',')}] [--baselines ${BASELINES.join(',')}] [--probes ${Object.keys(PROBES).join(',')}] [--no-png] [--backend NAME]`,
  async run(argv) {
    const f = parseFlags(argv, {
      ...CONFIG_FLAGS,
      ...STUDY_OUT_FLAGS,
      problems: { type: 'string' },
      k: { type: 'string' },
      seed: { type: 'string' },
      taus: { type: 'string' },
      baselines: { type: 'string' },
      probes: { type: 'string' },
      'no-png': { type: 'boolean', default: false },
      backend: { type: 'string' },
    });
    const inputs = configInputs(f);
    const preset = inputs.preset;
    const opts = {
      preset,
      out: studyOutFromFlags(f, path.join('headroom', preset)),
      problems: intFlag(f, 'problems', 150),
      k: intFlag(f, 'k', 4),
      seed: intFlag(f, 'seed', 0, 0),
      taus: tauList(f.taus),
      baselines: listFlag(f.baselines, BASELINES),
      probes: listFlag(f.probes, Object.keys(PROBES)),
      sets: inputs.sets,
      configFile: inputs.configFile,
      png: !(f['no-png'] as boolean),
    };
    await initBackend(f.backend as string | undefined);
    const summary = await runHeadroom(opts);
    console.log(headroomTable(summary));
    return 0;
  },
};
