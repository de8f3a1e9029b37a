// The controller registry and config: every name builds the right controller; an unknown name, an unknown key and
// invalid values are KitErrors that say what is valid.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { DEFAULT_CONTROLLER_CONFIG, resolveControllerConfig } from '../../src/policy/config';
import { categoricalTauSet, CONTROLLER_NAMES, createController } from '../../src/policy/registry';
import { expectKitError } from './helpers';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('registry', () => {
  it('builds every registered controller with its name', () => {
    for (const name of CONTROLLER_NAMES) {
      const c = createController(name, {}, 8, 1);
      expect(c.name).toBe(name);
      expect(c.learned).toBe(name.startsWith('introllm'));
      expect(c.variables().length).toBe(c.learned ? 4 : 0);
      c.dispose();
    }
  });

  it('an unknown name lists the valid ones', () => {
    expectKitError(() => createController('introlm', {}, 8, 1), "unknown temperature controller 'introlm'", 'fixed, edt, ead, tampo, introllm');
  });

  it('hidden heads need a positive hiddenSize', () => {
    expectKitError(() => createController('introllm', {}, 0, 1), 'hiddenSize');
    createController('introllm-features', {}, 0, 1).dispose(); // features head does not read h_t
  });
});

describe('config', () => {
  it('defaults resolve and are valid; a partial config merges over them', () => {
    expect(resolveControllerConfig()).toEqual({ ...DEFAULT_CONTROLLER_CONFIG, tampoTaus: [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5] });
    expect(resolveControllerConfig({ tauMax: 2 }).tauMax).toBe(2);
  });

  it('rejects unknown keys, wrong types and invalid values, saying what is valid', () => {
    expectKitError(() => resolveControllerConfig({ tauMaxx: 2 }), "unknown key 'tauMaxx'", 'tauMax');
    expectKitError(() => resolveControllerConfig({ tauMin: 1.6, tauMax: 1.6 }), 'tauMin < tauMax');
    expectKitError(() => resolveControllerConfig({ tauMin: 2, tauMax: 1 }), 'tauMin < tauMax');
    expectKitError(() => resolveControllerConfig({ tauMin: 0 }), 'tauMin must be a finite number > 0');
    expectKitError(() => resolveControllerConfig({ epsilon: 0 }), 'epsilon must be a finite number > 0');
    expectKitError(() => resolveControllerConfig({ epsilon: -1 }), 'epsilon');
    expectKitError(() => resolveControllerConfig({ tampoTaus: [] }), 'tampoTaus must be a non-empty array');
    expectKitError(() => resolveControllerConfig({ categoricalTaus: [] }), 'categoricalTaus must be null or a non-empty array');
    expectKitError(() => resolveControllerConfig({ edtN: 1.2 }), 'edtN must be a number in (0, 1)');
    expectKitError(() => resolveControllerConfig({ detachHidden: 'yes' }), 'detachHidden must be true or false');
    expectKitError(() => resolveControllerConfig({ tampoScope: 'prompt' }), "'row', 'group' or 'batch'");
    expectKitError(() => resolveControllerConfig({ tampoTopP: 1.5 }), 'tampoTopP must be a number in [0, 1]');
    expectKitError(() => resolveControllerConfig({ eadLengthScale: 0 }), 'eadLengthScale must be a finite number > 0');
    expectKitError(() => resolveControllerConfig(null), 'expected an object');
  });

  it('controller-specific checks: tau0 and headInitTau inside the range, categorical set inside the range', () => {
    expectKitError(() => createController('introllm', { tau0: 1.8 }, 8, 1), 'tau0 (1.8) must lie in [tauMin, tauMax]');
    expectKitError(() => createController('introllm', { headInitTau: 0.4 }, 8, 1), 'headInitTau');
    expectKitError(
      () => createController('introllm-categorical', { categoricalTaus: [0.2, 1.0] }, 8, 1),
      'categoricalTaus must lie in [tauMin, tauMax]',
      '0.2',
    );
    expectKitError(() => createController('introllm', { headInitConcentration: 0.001 }, 8, 1), 'headInitConcentration');
    // the same config is fine for a controller that does not use those fields
    createController('fixed', { tau0: 1.8 }, 8, 1).dispose();
  });

  it('the default categorical set is evenly spaced over [tauMin, tauMax]', () => {
    const set = categoricalTauSet(resolveControllerConfig({ tauMin: 0.5, tauMax: 1.5, categoricalBins: 5 }));
    expect(set.length).toBe(5);
    [0.5, 0.75, 1.0, 1.25, 1.5].forEach((t, k) => expect(set[k]).toBeCloseTo(t, 12));
  });
});
