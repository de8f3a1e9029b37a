// Baseline 'tampo': Temperature Adaptive Meta Policy Optimization ("Temperature as a Meta-Policy", Dang et al.,
// arXiv 2602.11779), as far as secondary summaries let us reconstruct it; the paper's exact update is NOT known to us.
// A meta-policy over K candidate temperatures T_k picks one τ per rollout (not per token), and is updated without
// gradients from the finished rollouts:
//   p_k = (1 − λ) softmax(w / β)_k + λ / K                       (λ: our addition, keeps every candidate alive)
//   responsibility r_ik = softmax_k(ℓ_k(i))  when the rollout passes logLikByTau (ℓ_k(i) = mean token log-likelihood
//                         of row i's completion at T_k: "the temperature that best explains the trajectory"),
//                         else 1 for the temperature row i was sampled at, 0 for the others;
//   Â_k = Σ_i r_ik A_i / Σ_i r_ik   (A_i: the row's advantage, default reward − batch mean)
//   w_k ← (1 − η) w_k + η Â_k       for every k with Σ_i r_ik > 0 (TAMPO smooths with an EMA)
// w starts at 0 (uniform). state()/loadState() carry w, the update count and the current row assignment exactly.
import { check, KitError } from '../errors';
import { Rng } from '../rng';
import { checkTauInputs, tauKey } from './common';
import { ControllerConfig, TampoScope } from './config';
import { NonLearnedController } from './non-learned';
import { ObservedRollout, TauInputs, TauSample } from './types';

interface TampoState {
  controller: 'tampo';
  taus: number[];
  w: number[];
  updates: number;
  rowIndex: number[] | null;
}

export class TampoController extends NonLearnedController {
  readonly name = 'tampo';
  readonly taus: readonly number[];
  private w: number[];
  private updates = 0;
  private rowIndex: Int32Array | null = null;
  private readonly beta: number;
  private readonly ema: number;
  private readonly mix: number;
  private readonly scope: TampoScope;

  constructor(cfg: ControllerConfig) {
    super();
    this.taus = cfg.tampoTaus.slice();
    this.w = new Array(this.taus.length).fill(0);
    this.beta = cfg.tampoBeta;
    this.ema = cfg.tampoEma;
    this.mix = cfg.tampoUniformMix;
    this.scope = cfg.tampoScope;
  }

  /** The meta-policy p over the candidates (sums to 1). */
  probs(): number[] {
    const K = this.taus.length;
    const m = Math.max(...this.w);
    const e = this.w.map((x) => Math.exp((x - m) / this.beta));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => (1 - this.mix) * (x / s) + this.mix / K);
  }

  /** The current weights w (a copy). */
  weights(): number[] {
    return this.w.slice();
  }

  private draw(p: number[], rng: Rng): number {
    const r = rng.next();
    let acc = 0;
    for (let k = 0; k < p.length; k++) {
      acc += p[k];
      if (r < acc) return k;
    }
    return p.length - 1;
  }

  /** Draws the τ index of every rollout row (per row, per prompt group, or one for the batch: tampoScope). */
  override beginRollout(info: { trainStep: number; batch: number; groups?: Int32Array }, rng: Rng): void {
    const B = info.batch;
    check(Number.isInteger(B) && B > 0, () => `tampo.beginRollout: batch must be a positive integer, got ${B}`);
    const p = this.probs();
    const idx = new Int32Array(B);
    if (this.scope === 'row') {
      for (let b = 0; b < B; b++) idx[b] = this.draw(p, rng);
    } else if (this.scope === 'batch') {
      idx.fill(this.draw(p, rng));
    } else {
      const g = info.groups;
      check(g !== undefined && g.length === B, () => `tampo.beginRollout: tampoScope 'group' needs groups with ${B} entries (row → prompt index), got ${g ? g.length : 'none'}`);
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
      check(row >= 0 && row < idx.length, () => `tampo.act: row ${row} of input ${i} is outside the rollout batch of ${idx.length} (pass rows when the batch shrinks)`);
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
      if (Math.abs(this.taus[k] - tau) <= 1e-4 * Math.max(1, this.taus[k]) && (best < 0 || Math.abs(this.taus[k] - tau) < Math.abs(this.taus[best] - tau))) best = k;
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
    check(logLikByTau === undefined || logLikByTau.length === R * K, () => `tampo.observe: logLikByTau must have ${R}·${K} = ${R * K} entries (row-major [rows, candidates]), got ${logLikByTau!.length}`);
    for (let i = 0; i < R; i++) check(Number.isFinite(reward[i]), () => `tampo.observe: reward[${i}] is ${reward[i]}`);
    if (R === 0) return;
    let mean = 0;
    for (let i = 0; i < R; i++) mean += reward[i] / R;
    const num = new Float64Array(K);
    const den = new Float64Array(K);
    for (let i = 0; i < R; i++) {
      const A = advantage ? advantage[i] : reward[i] - mean;
      check(Number.isFinite(A), () => `tampo.observe: advantage[${i}] is ${A}`);
      if (logLikByTau) {
        let m = -Infinity;
        for (let k = 0; k < K; k++) m = Math.max(m, logLikByTau[i * K + k]);
        check(Number.isFinite(m), () => `tampo.observe: logLikByTau of row ${i} has no finite entry`);
        let s = 0;
        const e = new Float64Array(K);
        for (let k = 0; k < K; k++) s += (e[k] = Math.exp(logLikByTau[i * K + k] - m));
        for (let k = 0; k < K; k++) {
          num[k] += (e[k] / s) * A;
          den[k] += e[k] / s;
        }
      } else {
        const k = this.indexOf(rowTau[i], i);
        num[k] += A;
        den[k] += 1;
      }
    }
    for (let k = 0; k < K; k++) if (den[k] > 0) this.w[k] = (1 - this.ema) * this.w[k] + this.ema * (num[k] / den[k]);
    this.updates++;
  }

  metrics(): Record<string, number> {
    const p = this.probs();
    const out: Record<string, number> = { 'policy/tampo_updates': this.updates };
    let mean = 0;
    this.taus.forEach((t, k) => {
      out[`policy/tampo_w_${tauKey(t)}`] = this.w[k];
      out[`policy/tampo_p_${tauKey(t)}`] = p[k];
      mean += p[k] * t;
    });
    out['policy/tampo_mean_tau'] = mean;
    return out;
  }

  state(): TampoState {
    return { controller: 'tampo', taus: this.taus.slice(), w: this.w.slice(), updates: this.updates, rowIndex: this.rowIndex ? Array.from(this.rowIndex) : null };
  }

  loadState(state: unknown): void {
    const s = state as Partial<TampoState> | null;
    const K = this.taus.length;
    const ok = s !== null && typeof s === 'object' && s.controller === 'tampo'
      && Array.isArray(s.taus) && s.taus.length === K && s.taus.every((t, k) => t === this.taus[k])
      && Array.isArray(s.w) && s.w.length === K && s.w.every((x) => typeof x === 'number' && Number.isFinite(x))
      && typeof s.updates === 'number' && Number.isInteger(s.updates) && s.updates >= 0
      && (s.rowIndex === null || (Array.isArray(s.rowIndex) && s.rowIndex.every((k) => Number.isInteger(k) && k >= 0 && k < K)));
    if (!ok) {
      throw new KitError(`tampo.loadState: expected {controller: 'tampo', taus: [${this.taus.join(', ')}] (the configured candidates), w: ${K} finite numbers, updates: integer ≥ 0, rowIndex: null or indices < ${K}}, got ${JSON.stringify(state)}`);
    }
    this.w = s.w!.slice();
    this.updates = s.updates!;
    this.rowIndex = s.rowIndex ? Int32Array.from(s.rowIndex) : null;
  }
}
