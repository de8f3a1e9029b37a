// Table rows for the notebooks (kit.htmlTable): a training log per step, two runs side by side, an evaluation result,
// a reproduction's summary.json, an ablation table and the size of each method's token traces. Pure functions of
// what the kit writes or returns, so the notebooks' cells stay one step of the story and the formatting is tested.
import type { EvalResult } from '../eval/evaluate';
import type { AblationTable, MethodTraces } from './types';

/** A training-log column: its header and the metrics.jsonl key it reads. */
export type LogColumn = [label: string, key: string];

/** The key of the seconds per step (rollout + update, `time/rollout_ms` + `time/update_ms`). */
export const STEP_SECONDS = 'time/step_s';

/** The columns notebook 05 shows per training step. */
export const TRAINING_LOG_COLUMNS: LogColumn[] = [
  ['phase', 'phase'],
  ['reward', 'train/reward_mean'],
  ['τ mean', 'policy/tau_mean'],
  ['τ std', 'policy/tau_std'],
  ['gate rate', 'policy/gate_rate'],
  ['H mean', 'policy/entropy_mean'],
  ['len', 'train/length_mean'],
  ['loss θ', 'loss_token/loss'],
  ['loss φ', 'loss_temp/loss'],
  ['s', STEP_SECONDS],
];

function logValue(rec: Record<string, unknown>, key: string): unknown {
  if (key !== STEP_SECONDS) return rec[key];
  const ms = rec['time/rollout_ms'];
  return typeof ms === 'number' ? (ms + ((rec['time/update_ms'] as number) ?? 0)) / 1000 : undefined;
}

/** One training record as a row: numbers to 3 decimals, strings as they are, a missing metric as '–'. */
export function trainingLogRow(rec: Record<string, unknown>, columns: LogColumn[] = TRAINING_LOG_COLUMNS): Record<string, unknown> {
  return Object.fromEntries(
    columns.map(([label, key]) => {
      const v = logValue(rec, key);
      return [label, typeof v === 'number' ? +v.toFixed(3) : (v ?? '–')];
    }),
  );
}

/** A run's training records as a table keyed `step N`. */
export function trainingLogTable(
  records: readonly Record<string, unknown>[],
  columns: LogColumn[] = TRAINING_LOG_COLUMNS,
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(records.map((rec) => [`step ${rec.step}`, trainingLogRow(rec, columns)]));
}

/** The columns of notebook 08's side-by-side training runs. */
export const SIDE_BY_SIDE_COLUMNS: LogColumn[] = [
  ['reward', 'train/reward_mean'],
  ['τ mean', 'policy/tau_mean'],
  ['gate', 'policy/gate_rate'],
];

/**
 * Several runs' training records in one table: a row per `step N (phase)`, a column `<method>: <label>` per method and
 * column (numbers to 3 decimals), methods in the order of `logs`.
 */
export function sideBySideTrainingLog(
  logs: Record<string, readonly Record<string, unknown>[]>,
  columns: LogColumn[] = SIDE_BY_SIDE_COLUMNS,
): Record<string, Record<string, number | string>> {
  const side: Record<string, Record<string, number | string>> = {};
  for (const [method, records] of Object.entries(logs)) {
    for (const rec of records) {
      const row = (side[`step ${rec.step} (${rec.phase})`] ??= {});
      for (const [label, key] of columns) row[`${method}: ${label}`] = +(logValue(rec, key) as number).toFixed(3);
    }
  }
  return side;
}

/** `12.3 [4.5, 20.0]`: an interval's value and bounds in percent with `digits` decimals. */
export function pctInterval(i: { value: number; lo: number; hi: number }, digits = 1): string {
  return `${(100 * i.value).toFixed(digits)} [${(100 * i.lo).toFixed(digits)}, ${(100 * i.hi).toFixed(digits)}]`;
}

/** An evaluation result as notebook 06 shows it: Avg@k, Pass@k (with CIs) and maj@k in percent, τ, gate, H, length. */
export function evalResultRow(r: EvalResult): Record<string, string | number> {
  const k = r.report.k;
  return {
    [`Avg@${k} % [95% CI]`]: pctInterval(r.report.avg),
    [`Pass@${k} % [95% CI]`]: pctInterval(r.report.pass),
    [`maj@${k} %`]: (100 * r.report.majority!.value).toFixed(1),
    'mean τ': +r.tauMean.toFixed(3),
    'gate rate': +r.gateRate.toFixed(3),
    'mean H': +r.entropyMean.toFixed(3),
    'mean length': +r.meanLength.toFixed(1),
  };
}

/** The fields of a summary.json method entry that summaryRows reads. */
export interface SummaryRowInput {
  accuracy: number;
  ci95: [number, number];
  pass_at_k: Record<string, number>;
  seeds: number[];
  tau_mean: number;
}

/** summary.json's methods as rows: accuracy, its CI as `lo – hi`, pass@k per k, the seeds and mean τ. */
export function summaryRows(methods: Record<string, SummaryRowInput>): Record<string, Record<string, string | number>> {
  return Object.fromEntries(
    Object.entries(methods).map(([m, s]) => [
      m,
      {
        accuracy: +s.accuracy.toFixed(4),
        ci95: s.ci95.map((x) => x.toFixed(3)).join(' – '),
        ...Object.fromEntries(Object.entries(s.pass_at_k).map(([kk, v]) => [`pass@${kk}`, +v.toFixed(4)])),
        seeds: s.seeds.join(','),
        'mean τ': +s.tau_mean.toFixed(3),
      },
    ]),
  );
}

/** An ablation table's rows: variant, accuracy and its CI as `lo – hi`, and (when the grid names its default) each
 *  variant minus the default in points with its paired CI. */
export function ablationRows(table: AblationTable): { variant: string; accuracy: number; ci95: string; vs_default?: string }[] {
  const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;
  return table.rows.map((r) => ({
    variant: r.variant,
    accuracy: +r.accuracy.toFixed(4),
    ci95: r.ci95.map((x) => x.toFixed(3)).join(' – '),
    ...(table.default_variant === undefined
      ? {}
      : {
          vs_default: r.vs_default ? `${pts(r.vs_default.diff)} [${pts(r.vs_default.ci95[0])}, ${pts(r.vs_default.ci95[1])}] points` : '(the default)',
        }),
  }));
}

/** Per method: how many completions, tokens and correct completions its traces hold. */
export function traceCounts(traces: readonly MethodTraces[]): { method: string; completions: number; tokens: number; correct: number }[] {
  return traces.map((m) => ({
    method: m.method,
    completions: m.traces.length,
    tokens: m.traces.reduce((s, t) => s + t.text.length, 0),
    correct: m.traces.filter((t) => t.correct).length,
  }));
}
