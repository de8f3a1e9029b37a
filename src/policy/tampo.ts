// Baseline 'tampo': Temperature Adaptive Meta Policy Optimization ("Temperature as a Meta-Policy", Dang et al.,
// arXiv 2602.11779, ICLR 2026). No code is released; the update below follows the paper's published summaries
// (secondary; docs/method.md#baselines). A meta-policy over K candidate temperatures T_k picks the τ of the rollouts
// (one τ per rollout, never per token) and is updated without gradients from the finished rollouts:
//   ℓ_k(i)  = mean token log-likelihood of row i's completion at T_k          (observe's logLikByTau)
//   ℓ̂_·(i)  = sparsemax_k(ℓ_k(i))      "which temperature best explains the trajectory"
//   Â_k     = (1/R) Σ_i ℓ̂_k(i) · A_i   temperature-specific advantage, A_i the row's (GRPO) advantage
//   S_k    ← (1 − α) S_k + α Â_k       EMA, S = 0 at the start
//   p_k     = (S_k − min S) / Σ_j (S_j − min S)   min–max normalised (uniform while all S_k are equal)
//   the next τ: drawn from p restricted to its top-p nucleus (renormalised); top-p 0 = greedy (argmax)
// Constants and their source (options in src/policy/config.ts):
//   candidates {0.6, 0.7, …, 1.5} (tampoTaus), α = 0.05 (tampoEma), top-p 0.7 (tampoTopP): the summaries, which also
//   report the paper's ablations (α 0.01 / 0.05 / 0.10; top-p 0.9 / 0.7 / 0.5 / greedy);
//   one τ for all rows of a rollout batch (tampoScope 'batch'): the summaries' inner loop, "trajectories sampled at
//   the temperature selected by the meta-policy"; 'group' (one per prompt) and 'row' are the kit's variants;
//   ours: candidates tied with the last one of the nucleus join it (and greedy breaks ties uniformly), so that the
//   uniform start does not favour the lowest τ; without logLikByTau (a caller that cannot score the completions at
//   every candidate) ℓ̂_k(i) = 1 for the candidate row i was sampled at and 0 for the others.
// state()/loadState() carry S, the update count and the current row assignment exactly.
import { check, KitError } from '../errors';
import { Rng } from '../rng';
import { checkTauInputs, tauKey } from './common';
import { ControllerConfig, TampoScope } from './config';
import { NonLearnedController } from './non-learned';
import { ObservedRollout, TauInputs, TauSample } from './types';

interface TampoState {
  controller: 'tampo';
  taus: number[];
  s: number[];
  updates: number;
  rowIndex: number[] | null;
}

/** sparsemax(z) (Martins & Astudillo 2016): the Euclidean projection of z onto the probability simplex, max(z − η, 0)
 *  with η chosen so the result sums to 1; sparse where softmax never is. */
export function sparsemax(z: readonly number[]): number[] {
  check(z.length > 0 && z.every(Number.isFinite), () => `sparsemax: need finite values, got [${z.join(', ')}]`);
  const sorted = [...z].sort((a, b) => b - a);
  let cum = 0;
  let k = 0;
  let cumK = 0;
  for (let j = 0; j < sorted.length; j++) {
    cum += sorted[j];
    if (1 + (j + 1) * sorted[j] > cum) {
      k = j + 1;
      cumK = cum;
    }
  }
  const eta = (cumK - 1) / k;
  return z.map((x) => Math.max(x - eta, 0));
}

/** Min–max normalisation of scores into a distribution: (s − min) / Σ (s − min); uniform when all are equal. */
export function minMaxDistribution(s: readonly number[]): number[] {
  const lo = Math.min(...s);
  const shifted = s.map((x) => x - lo);
  const sum = shifted.reduce((a, b) => a + b, 0);
  return sum > 0 ? shifted.map((x) => x / sum) : s.map(() => 1 / s.length);
}

/**
 * The top-p nucleus of p: the most probable candidates until their mass reaches `topP`, plus every candidate tied with
 * the last one taken, renormalised (zeros elsewhere). topP 0 keeps only the most probable candidate(s).
 */
export function nucleus(p: readonly number[], topP: number): number[] {
  const order = p.map((_, k) => k).sort((a, b) => p[b] - p[a] || a - b);
  const keep = new Set<number>();
  let mass = 0;
  let last = Infinity;
  for (const k of order) {
    if (keep.size > 0 && (mass >= topP || topP === 0) && p[k] < last) break;
    keep.add(k);
    mass += p[k];
    last = p[k];
  }
  const out = p.map((x, k) => (keep.has(k) ? x : 0));
  const sum = out.reduce((a, b) => a + b, 0);
  return sum > 0 ? out.map((x) => x / sum) : out.map((_, k) => (keep.has(k) ? 1 / keep.size : 0));
}

export class TampoController extends NonLearnedController {
  readonly name = 'tampo';
  readonly taus: readonly number[];
  private s: number[];
  private updates = 0;
  private rowIndex: Int32Array | null = null;
  private readonly ema: number;
  private readonly topP: number;
  private readonly scope: TampoScope;

  constructor(cfg: ControllerConfig) {
    super();
    this.taus = cfg.tampoTaus.slice();
    this.s = new Array(this.taus.length).fill(0);
    this.ema = cfg.tampoEma;
    this.topP = cfg.tampoTopP;
    this.scope = cfg.tampoScope;
  }

  /** The meta-policy: the min–max normalised EMA scores (sums to 1). */
  probs(): number[] {
    return minMaxDistribution(this.s);
  }

  /** The distribution a temperature is drawn from: probs() restricted to its top-p nucleus. */
  drawProbs(): number[] {
    return nucleus(this.probs(), this.topP);
  }

  /** The EMA scores S (a copy). */
  scores(): number[] {
    return this.s.slice();
  }

  private draw(p: number[], rng: Rng): number {
    const r = rng.next();
    let acc = 0;
    let lastPositive = 0;
    for (let k = 0; k < p.length; k++) {
      if (p[k] <= 0) continue;
      lastPositive = k;
      acc += p[k];
      if (r < acc) return k;
    }
    return lastPositive;
  }

  /** Draws the τ index of every rollout row (one for the batch, per prompt group, or per row: tampoScope). */
  override beginRollout(info: { trainStep: number; batch: number; groups?: Int32Array }, rng: Rng): void {
    const B = info.batch;
    check(Number.isInteger(B) && B > 0, () => `tampo.beginRollout: batch must be a positive integer, got ${B}`);
    const p = this.drawProbs();
    const idx = new Int32Array(B);
    if (this.scope === 'row') {
      for (let b = 0; b < B; b++) idx[b] = this.draw(p, rng);
    } else if (this.scope === 'batch') {
      idx.fill(this.draw(p, rng));
    } else {
      const g = info.groups;
      check(
        g !== undefined && g.length === B,
        () => `tampo.beginRollout: tampoScope 'group' needs groups with ${B} entries (row → prompt index), got ${g ? g.length : 'none'}`,
      );
      const byGroup = new Map<number, number>();
      for (let b = 0; b < B; b++) {
        if (!byGroup.has(g[b])) byGroup.set(g[b], this.draw(p, rng));
        idx[b] = byGroup.get(g[b])!;
      }
    }
    this.rowIndex = idx;
  }

  act(inputs: TauInputs, _rng: Rng): TauSample {
    const N = checkTauInputs(this.name, inputs, null);
    const idx = this.rowIndex;
    if (!idx) throw new KitError('tampo.act: call beginRollout first (it draws the temperature of each rollout row)');
    const tau = new Float32Array(N);
    const z = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      const row = inputs.rows ? inputs.rows[i] : i;
      check(
        row >= 0 && row < idx.length,
        () => `tampo.act: row ${row} of input ${i} is outside the rollout batch of ${idx.length} (pass rows when the batch shrinks)`,
      );
      z[i] = idx[row];
      tau[i] = this.taus[idx[row]];
    }
    return this.sampleOf(tau, z);
  }

  /** The τ of each rollout row drawn by the last beginRollout (null before). */
  rowTaus(): Float32Array | null {
    return this.rowIndex ? Float32Array.from(this.rowIndex, (k) => this.taus[k]) : null;
  }

  private indexOf(tau: number, row: number): number {
    let best = -1;
    for (let k = 0; k < this.taus.length; k++) {
      if (Math.abs(this.taus[k] - tau) <= 1e-4 * Math.max(1, this.taus[k]) && (best < 0 || Math.abs(this.taus[k] - tau) < Math.abs(this.taus[best] - tau)))
        best = k;
    }
    if (best < 0) throw new KitError(`tampo.observe: rowTau[${row}] = ${tau} is not one of the candidates [${this.taus.join(', ')}]`);
    return best;
  }

  observe(rollout: ObservedRollout): void {
    const { rowTau, reward, advantage, logLikByTau } = rollout;
    const R = rowTau.length;
    const K = this.taus.length;
    check(reward.length === R, () => `tampo.observe: reward must have ${R} entries (one per row of rowTau), got ${reward.length}`);
    check(advantage === undefined || advantage.length === R, () => `tampo.observe: advantage must have ${R} entries, got ${advantage!.length}`);
    check(
      logLikByTau === undefined || logLikByTau.length === R * K,
      () => `tampo.observe: logLikByTau must have ${R}·${K} = ${R * K} entries (row-major [rows, candidates]), got ${logLikByTau!.length}`,
    );
    for (let i = 0; i < R; i++) check(Number.isFinite(reward[i]), () => `tampo.observe: reward[${i}] is ${reward[i]}`);
    if (R === 0) return;
    let mean = 0;
    for (let i = 0; i < R; i++) mean += reward[i] / R;
    const adv = new Float64Array(K);
    for (let i = 0; i < R; i++) {
      const A = advantage ? advantage[i] : reward[i] - mean;
      check(Number.isFinite(A), () => `tampo.observe: advantage[${i}] is ${A}`);
      let w: number[];
      if (logLikByTau) {
        const l = Array.from(logLikByTau.subarray(i * K, (i + 1) * K));
        check(l.every(Number.isFinite), () => `tampo.observe: logLikByTau of row ${i} is not finite: [${l.join(', ')}]`);
        w = sparsemax(l);
      } else {
        w = new Array(K).fill(0);
        w[this.indexOf(rowTau[i], i)] = 1;
      }
      for (let k = 0; k < K; k++) adv[k] += (w[k] * A) / R;
    }
    for (let k = 0; k < K; k++) this.s[k] = (1 - this.ema) * this.s[k] + this.ema * adv[k];
    this.updates++;
  }

  metrics(): Record<string, number> {
    const p = this.probs();
    const out: Record<string, number> = { 'policy/tampo_updates': this.updates };
    let mean = 0;
    this.taus.forEach((t, k) => {
      out[`policy/tampo_s_${tauKey(t)}`] = this.s[k];
      out[`policy/tampo_p_${tauKey(t)}`] = p[k];
      mean += p[k] * t;
    });
    out['policy/tampo_mean_tau'] = mean;
    return out;
  }

  state(): TampoState {
    return {
      controller: 'tampo',
      taus: this.taus.slice(),
      s: this.s.slice(),
      updates: this.updates,
      rowIndex: this.rowIndex ? Array.from(this.rowIndex) : null,
    };
  }

  loadState(state: unknown): void {
    const s = state as Partial<TampoState> | null;
    const K = this.taus.length;
    const ok =
      s !== null &&
      typeof s === 'object' &&
      s.controller === 'tampo' &&
      Array.isArray(s.taus) &&
      s.taus.length === K &&
      s.taus.every((t, k) => t === this.taus[k]) &&
      Array.isArray(s.s) &&
      s.s.length === K &&
      s.s.every((x) => typeof x === 'number' && Number.isFinite(x)) &&
      typeof s.updates === 'number' &&
      Number.isInteger(s.updates) &&
      s.updates >= 0 &&
      (s.rowIndex === null || (Array.isArray(s.rowIndex) && s.rowIndex.every((k) => Number.isInteger(k) && k >= 0 && k < K)));
    if (!ok) {
      throw new KitError(
        `tampo.loadState: expected {controller: 'tampo', taus: [${this.taus.join(', ')}] (the configured candidates), s: ${K} finite numbers, updates: integer ≥ 0, rowIndex: null or indices < ${K}}, got ${JSON.stringify(state)}`,
      );
    }
    this.s = s.s!.slice();
    this.updates = s.updates!;
    this.rowIndex = s.rowIndex ? Int32Array.from(s.rowIndex) : null;
  }
}
