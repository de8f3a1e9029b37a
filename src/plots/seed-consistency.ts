// Is a learned τ-by-class pattern the same rule in every seed? A pooled "τ by token class" over seeds can show a
// spread between classes that no single head has (one seed's head raises a class, another's lowers it). This splits
// the traces by seed and, per class, places each seed's class mean τ (with its problem-bootstrap CI, as in
// tauByClass) against that seed's mean τ over all of its tokens. A class is `consistent` when every seed's CI lies
// on the same side of its own seed's mean: the same direction, each seed significant on its own.
import { KitError } from '../errors';
import { BootstrapOptions, tauByClassWith } from './interpret';
import type { TokenTrace } from './types';

export interface SeedClassStat {
  mean_tau: number | null;
  ci95: [number, number] | null;
  count: number;
  /** The seed's mean τ over all of its tokens, the reference this class is compared with. */
  seed_mean_tau: number;
  /** Class mean minus seed mean; null where the class has no token in this seed. */
  deviation: number | null;
  side: 'above' | 'below' | 'overlaps' | 'empty';
}

export interface ClassConsistency {
  seeds: Record<string, SeedClassStat>;
  /** 'above' / 'below' when every seed with tokens of this class is on that side (CI apart), else 'mixed'. */
  direction: 'above' | 'below' | 'mixed';
  consistent: boolean;
}

/** Mean τ over the finite τ of a set of traces. */
function meanTau(traces: readonly TokenTrace[]): number {
  let s = 0;
  let n = 0;
  for (const t of traces)
    for (const v of t.tau)
      if (Number.isFinite(v)) {
        s += v;
        n++;
      }
  return n > 0 ? s / n : NaN;
}

/**
 * Per class, each seed's class mean τ against that seed's overall mean τ. `seedOf` names a trace's seed; a class
 * counts as consistent only with at least two seeds, all with tokens of the class and all CI-apart on one side.
 */
export function classConsistencyBySeed<K extends string>(
  traces: readonly TokenTrace[],
  classes: readonly K[],
  classify: (tokens: readonly string[]) => K[],
  seedOf: (t: TokenTrace) => string,
  options: BootstrapOptions = {},
): Record<K, ClassConsistency> {
  const bySeed = new Map<string, TokenTrace[]>();
  for (const t of traces) {
    const s = seedOf(t);
    if (!s) throw new KitError(`trace ${t.problemId}: no seed could be read from it`);
    if (!bySeed.has(s)) bySeed.set(s, []);
    bySeed.get(s)!.push(t);
  }
  const perSeed = [...bySeed].map(([seed, ts]) => ({ seed, mean: meanTau(ts), stats: tauByClassWith(ts, classes, classify, options) }));
  const out = {} as Record<K, ClassConsistency>;
  for (const cls of classes) {
    const seeds: Record<string, SeedClassStat> = {};
    for (const { seed, mean, stats } of perSeed) {
      const c = stats[cls];
      const has = c.count > 0 && Number.isFinite(c.value);
      const side = !has ? 'empty' : c.lo > mean ? 'above' : c.hi < mean ? 'below' : 'overlaps';
      seeds[seed] = {
        mean_tau: has ? c.value : null,
        ci95: has && Number.isFinite(c.lo) ? [c.lo, c.hi] : null,
        count: c.count,
        seed_mean_tau: mean,
        deviation: has ? c.value - mean : null,
        side,
      };
    }
    const sides = Object.values(seeds).map((s) => s.side);
    const one = sides.length >= 2 && sides.every((s) => s === sides[0]) && (sides[0] === 'above' || sides[0] === 'below') ? sides[0] : null;
    out[cls] = { seeds, direction: one ?? 'mixed', consistent: one !== null };
  }
  return out;
}
