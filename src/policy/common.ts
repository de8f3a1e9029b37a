// Small helpers shared by the temperature controllers: shape checks of TauInputs (a bad shape is a KitError naming
// the argument), float32 rounding that keeps a τ inside its range, and metric-key formatting.
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import { TauInputs } from './types';

/**
 * Checks TauInputs and returns N. hidden [N, d] (d = hiddenSize when given), logits [N, V], prevTau [N], position [N],
 * rows (optional) N entries.
 */
export function checkTauInputs(who: string, inputs: TauInputs, hiddenSize: number | null): number {
  const { hidden, logits, prevTau, position } = inputs;
  check(hidden instanceof tf.Tensor && hidden.rank === 2, () => `${who}: hidden must be a 2-D tensor [N, d], got ${describe(hidden)}`);
  const N = hidden.shape[0];
  check(
    hiddenSize === null || hidden.shape[1] === hiddenSize,
    () => `${who}: hidden must be [N, ${hiddenSize}] (the controller's hiddenSize), got [${hidden.shape}]`,
  );
  check(
    logits instanceof tf.Tensor && logits.rank === 2 && logits.shape[0] === N && logits.shape[1] >= 1,
    () => `${who}: logits must be [${N}, V] like hidden's rows, got ${describe(logits)}`,
  );
  check(prevTau instanceof tf.Tensor && prevTau.rank === 1 && prevTau.shape[0] === N, () => `${who}: prevTau must be [${N}], got ${describe(prevTau)}`);
  check(position instanceof tf.Tensor && position.rank === 1 && position.shape[0] === N, () => `${who}: position must be [${N}], got ${describe(position)}`);
  check(inputs.rows === undefined || inputs.rows.length === N, () => `${who}: rows must have ${N} entries, got ${inputs.rows!.length}`);
  return N;
}

/** Checks a per-row tensor argument of logProb: [N]. */
export function checkRowTensor(who: string, argName: string, t: tf.Tensor, N: number): void {
  check(t instanceof tf.Tensor && t.rank === 1 && t.shape[0] === N, () => `${who}: ${argName} must be [${N}], got ${describe(t)}`);
}

/** A tensor argument as 'dtype [shape]' for error messages (anything else as its string). */
export function describe(t: unknown): string {
  return t instanceof tf.Tensor ? `${t.dtype} [${t.shape}]` : String(t);
}

/** Copies a tensor's values to a new Float32Array and disposes the tensor. */
export function readAndDispose(t: tf.Tensor): Float32Array {
  try {
    return Float32Array.from(t.dataSync() as ArrayLike<number>);
  } finally {
    t.dispose();
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x clamped to [lo, hi] (0 < lo < hi) and rounded to a float32 value that still lies within [lo, hi]. */
export function f32InRange(x: number, lo: number, hi: number): number {
  f32[0] = Math.min(Math.max(x, lo), hi);
  if (f32[0] < lo) u32[0] += 1; // positive float32: next representable value up
  if (f32[0] > hi) u32[0] -= 1;
  return f32[0];
}

/** A τ as a metric-key suffix: 1 → '1.0', 0.6 → '0.6', 1.25 → '1.25'. */
export function tauKey(tau: number): string {
  return Number.isInteger(tau) ? tau.toFixed(1) : String(tau);
}
