// What the controllers without trainable parameters (fixed, EDT, EAD, TAMPO) share: no variables, a zero log-prob
// at loss time (their τ carries no gradient to φ), gate = 1 on every step, and no tensor state to save.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { checkRowTensor, checkTauInputs } from './common';
import { TauInputs, TauSample, TemperatureController } from './types';

export abstract class NonLearnedController implements TemperatureController {
  readonly learned = false;
  abstract readonly name: string;

  variables(): tf.Variable[] {
    return [];
  }

  variableNames(): string[] {
    return [];
  }

  beginRollout(_info: { trainStep: number; batch: number; groups?: Int32Array }, _rng: Rng): void {}

  abstract act(inputs: TauInputs, rng: Rng): TauSample;

  /** Zeros [N] (after the same shape checks as the learned heads). */
  logProb(inputs: TauInputs, gate: tf.Tensor1D, z: tf.Tensor1D): tf.Tensor1D {
    const N = checkTauInputs(this.name, inputs, null);
    checkRowTensor(this.name, 'gate', gate, N);
    checkRowTensor(this.name, 'z', z, N);
    return tf.zeros([N]);
  }

  abstract state(): unknown;
  abstract loadState(state: unknown): void;

  dispose(): void {}

  /** A TauSample with the given τ, gate 1, z (default NaN) and logp 0. */
  protected sampleOf(tau: Float32Array, z?: Float32Array): TauSample {
    return { tau, gate: new Uint8Array(tau.length).fill(1), z: z ?? new Float32Array(tau.length).fill(NaN), logp: new Float32Array(tau.length) };
  }
}
