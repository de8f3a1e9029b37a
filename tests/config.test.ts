// The experiment config: presets, overrides, and errors that say what is valid.
import { describe, expect, it } from 'vitest';
import { parseSetting, PRESETS, resolveConfig } from '../src/config';
import { methodOverride } from '../src/experiments/methods';
import { expectKitError } from './helpers/kit';

describe('resolveConfig', () => {
  it('layers preset, overrides and --set values', () => {
    const c = resolveConfig({ preset: 'smoke', overrides: [{ source: 'm', value: methodOverride('fixed-0.6') }, { source: 's', value: parseSetting('rollout.groupSize=8') }] });
    expect(c.train.steps).toBe(PRESETS.smoke.train!.steps);
    expect(c.rollout.groupSize).toBe(8);
    expect(c.controller).toEqual({ name: 'fixed', fixedTau: 0.6 });
    expect(c.schedule.mode).toBe('token-only');
    expect(parseSetting('controller.tauMin=0.5')).toEqual({ controller: { tauMin: 0.5 } });
    expect(parseSetting('model.dir=some/where')).toEqual({ model: { dir: 'some/where' } });
  });

  it('rejects unknown keys, wrong types and impossible values, saying what is valid', () => {
    const set = (s: string) => () => resolveConfig({ overrides: [{ source: `--set ${s}`, value: parseSetting(s) }] });
    expectKitError(set('rollout.groupsize=4'), "unknown config key 'rollout.groupsize'", 'groupSize');
    expectKitError(set('rollout.groupSize="four"'), "'rollout.groupSize' must be a number");
    expectKitError(set('rollout.groupSize=1'), "'rollout.groupSize' must be an integer >= 2");
    expectKitError(set('controller.tauMin=1.7'), 'tauMin < tauMax');
    expectKitError(set('controller.tauMni=1'), "unknown key 'tauMni'");
    expectKitError(set('schedule.mode="sometimes"'), "'schedule.mode' must be one of alternate, sequential, joint, temperature-only, token-only");
    expectKitError(set('grpo.clipLow=1.5'), "'grpo.clipLow' must be in (0, 1)");
    expectKitError(set('grpo.tempEpochs=0'), "'grpo.tempEpochs' must be a positive integer");
    expectKitError(set('eval.split="train"'), "'eval.split' must be 'test' or 'validation'");
    expectKitError(() => resolveConfig({ preset: 'huge' }), "unknown preset 'huge'", 'smoke, tiny, quick, countdown, known-answer, small, paper');
    expectKitError(() => resolveConfig({ configFile: '/nonexistent/c.json' }), '/nonexistent/c.json: cannot read the config');
    expectKitError(() => methodOverride('greedy'), "unknown method 'greedy'", 'fixed-<tau>', 'introllm-nogate');
  });
});
