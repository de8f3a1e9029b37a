// Temperature controllers by name (verl-style registry): the baselines of the paper's comparison (fixed, edt, ead,
// tampo), the paper's learned head (introllm) and its ablations (paper: gate on/off; Beta vs categorical vs Gaussian;
// head input hidden state vs token-distribution features). An unknown name is a KitError listing the valid ones.
import { KitError } from '../errors';
import { BetaValue } from './beta';
import { CategoricalValue } from './categorical';
import { ControllerConfig, resolveControllerConfig } from './config';
import { EadController } from './ead';
import { EdtController } from './edt';
import { NUM_FEATURES } from './features';
import { FixedController } from './fixed';
import { GaussianValue } from './gaussian';
import { HeadController, HeadInput } from './head-controller';
import { TampoController } from './tampo';
import { TemperatureController } from './types';
import { ValueDistribution } from './value';

export const CONTROLLER_NAMES = [
  'fixed',
  'edt',
  'ead',
  'tampo',
  'introllm',
  'introllm-nogate',
  'introllm-categorical',
  'introllm-gaussian',
  'introllm-features',
] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

/** The discrete τ set of 'introllm-categorical': categoricalTaus, or categoricalBins values evenly spaced over
 *  [tauMin, tauMax]. Every value must lie in [tauMin, tauMax]. */
export function categoricalTauSet(cfg: ControllerConfig): number[] {
  if (cfg.categoricalTaus) {
    const bad = cfg.categoricalTaus.filter((t) => t < cfg.tauMin || t > cfg.tauMax);
    if (bad.length > 0)
      throw new KitError(`controller config: categoricalTaus must lie in [tauMin, tauMax] = [${cfg.tauMin}, ${cfg.tauMax}]; outside: ${bad.join(', ')}`);
    return cfg.categoricalTaus.slice();
  }
  const K = cfg.categoricalBins;
  return Array.from({ length: K }, (_, k) => (k === K - 1 ? cfg.tauMax : cfg.tauMin + (k * (cfg.tauMax - cfg.tauMin)) / (K - 1)));
}

function head(
  name: string,
  cfg: ControllerConfig,
  hiddenSize: number,
  seed: number,
  input: HeadInput,
  value: ValueDistribution,
  gate: boolean,
): HeadController {
  return new HeadController({ name, input, value, gate }, cfg, hiddenSize, seed);
}

/** Whether the controller `name` has parameters φ (the heads), without creating it. */
export function isLearnedController(name: string): boolean {
  return name.startsWith('introllm');
}

/** The width of controller `name`'s head input (0 for controllers without a head), without creating it. */
export function headInputWidthOf(name: string, hiddenSize: number): number {
  if (!isLearnedController(name)) return 0;
  return name === 'introllm-features' ? NUM_FEATURES : hiddenSize;
}

/**
 * Creates a controller. cfg: a partial ControllerConfig (merged over the defaults and validated); hiddenSize: d of
 * h_t (used by the heads on the hidden state; pass the model's hidden size); seed: initialises learned heads.
 */
export function createController(name: string, cfg: Partial<ControllerConfig> = {}, hiddenSize: number, seed: number): TemperatureController {
  const c = resolveControllerConfig(cfg);
  const beta = () => new BetaValue(c.tauMin, c.tauMax, c.epsilon, c.headInitTau, c.headInitConcentration);
  switch (name as ControllerName) {
    case 'fixed':
      return new FixedController(c);
    case 'edt':
      return new EdtController(c);
    case 'ead':
      return new EadController(c);
    case 'tampo':
      return new TampoController(c);
    case 'introllm':
      return head(name, c, hiddenSize, seed, 'hidden', beta(), true);
    case 'introllm-nogate':
      return head(name, c, hiddenSize, seed, 'hidden', beta(), false);
    case 'introllm-categorical':
      return head(name, c, hiddenSize, seed, 'hidden', new CategoricalValue(categoricalTauSet(c), c.tauMin, c.tauMax), true);
    case 'introllm-gaussian':
      return head(name, c, hiddenSize, seed, 'hidden', new GaussianValue(c.tauMin, c.tauMax, c.epsilon, c.headInitTau, c.gaussianInitStd), true);
    case 'introllm-features':
      return head(name, c, hiddenSize, seed, 'features', beta(), true);
  }
  throw new KitError(`unknown temperature controller '${name}'; valid: ${CONTROLLER_NAMES.join(', ')}`);
}
