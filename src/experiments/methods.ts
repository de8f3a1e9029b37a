// Methods by name: a method is a temperature controller plus the schedule that trains it. The names are what
// `introllm train --method` and the reproduction tables use: introllm* (learned, coordinate ascent), fixed-<τ>, edt,
// ead, tampo (baselines: only the token policy is trained).
import { ExperimentConfig } from '../config';
import { KitError } from '../errors';
import { CONTROLLER_NAMES } from '../policy/registry';

type Override = { controller: ExperimentConfig['controller']; schedule?: Partial<ExperimentConfig['schedule']> };

/** The method names (--method), the learned ones first; `fixed-<tau>` stands for any τ (e.g. fixed-0.6). */
export const METHOD_NAMES: readonly string[] = [
  ...CONTROLLER_NAMES.filter((n) => n.startsWith('introllm')),
  'fixed',
  'fixed-<tau>',
  ...CONTROLLER_NAMES.filter((n) => n !== 'fixed' && !n.startsWith('introllm')),
];

export function methodOverride(method: string): Override {
  const fixed = /^fixed(?:-(\d+(?:\.\d+)?))?$/.exec(method);
  if (fixed) return { controller: { name: 'fixed', fixedTau: fixed[1] === undefined ? 1.0 : Number(fixed[1]) }, schedule: { mode: 'token-only' } };
  if (method === 'edt' || method === 'ead' || method === 'tampo') return { controller: { name: method }, schedule: { mode: 'token-only' } };
  if ((CONTROLLER_NAMES as readonly string[]).includes(method) && method.startsWith('introllm')) return { controller: { name: method } };
  throw new KitError(
    `unknown method '${method}'; valid: fixed, fixed-<tau> (e.g. fixed-0.6), edt, ead, tampo, ${CONTROLLER_NAMES.filter((n) => n.startsWith('introllm')).join(', ')}`,
  );
}
