// Coordinate ascent (docs/method.md#training): which parameters move at an RL step. In 'alternate' mode blocks of
// tokenSteps steps update the token policy θ with φ frozen, then tempSteps steps update the temperature policy φ with
// θ frozen (token block first: the paper's order is not known to us). Controllers without parameters (fixed, EDT, EAD,
// TAMPO) always train θ only.
import { ScheduleMode } from '../config';

/** What a step trains. 'sequential': φ's update, then θ's, on the same rollouts (two updates; see config.ts). */
export type Phase = 'token' | 'temperature' | 'joint' | 'sequential';
/** One GRPO update's parameter groups (grpoUpdate): a 'sequential' step runs a 'temperature' then a 'token' update. */
export type UpdatePhase = Exclude<Phase, 'sequential'>;

/** The phase of 0-based RL step `step`. */
export function phaseAt(step: number, s: { mode: ScheduleMode; tokenSteps: number; tempSteps: number }, learnedController: boolean): Phase {
  if (!learnedController) return 'token';
  switch (s.mode) {
    case 'token-only':
      return 'token';
    case 'temperature-only':
      return 'temperature';
    case 'joint':
      return 'joint';
    case 'sequential':
      return 'sequential';
    case 'alternate':
      return step % (s.tokenSteps + s.tempSteps) < s.tokenSteps ? 'token' : 'temperature';
  }
}

export const trainsTheta = (p: Phase) => p === 'token' || p === 'joint' || p === 'sequential';
export const trainsPhi = (p: Phase) => p === 'temperature' || p === 'joint' || p === 'sequential';

/** The updates of θ and of φ one step of `phase` makes: 'epochs' passes for θ (and for φ in a joint update),
 *  'tempEpochs' passes for φ when θ is frozen in its update (temperature and sequential steps). */
export function stepUpdates(phase: Phase, g: { epochs: number; tempEpochs: number }, learned: boolean): { theta: number; phi: number } {
  const theta = trainsTheta(phase) ? g.epochs : 0;
  const phi = !learned || !trainsPhi(phase) ? 0 : phase === 'joint' ? g.epochs : g.tempEpochs;
  return { theta, phi };
}

/** A run's whole budget: θ updates, φ updates and rollouts (rows generated) over its steps. */
export function runBudget(
  cfg: {
    schedule: { mode: ScheduleMode; tokenSteps: number; tempSteps: number };
    grpo: { epochs: number; tempEpochs: number };
    train: { steps: number };
    rollout: { promptsPerStep: number; groupSize: number };
  },
  learned: boolean,
): { theta_updates: number; phi_updates: number; rollouts: number } {
  let theta = 0;
  let phi = 0;
  for (let s = 0; s < cfg.train.steps; s++) {
    const u = stepUpdates(phaseAt(s, cfg.schedule, learned), cfg.grpo, learned);
    theta += u.theta;
    phi += u.phi;
  }
  return { theta_updates: theta, phi_updates: phi, rollouts: cfg.train.steps * cfg.rollout.promptsPerStep * cfg.rollout.groupSize };
}

/** Whether θ trains at some step of a run with this schedule: the phases of one cycle, by phaseAt. */
export function runTrainsTheta(s: { mode: ScheduleMode; tokenSteps: number; tempSteps: number }, learnedController: boolean): boolean {
  const cycle = Math.max(1, s.tokenSteps + s.tempSteps);
  return Array.from({ length: cycle }, (_, step) => trainsTheta(phaseAt(step, s, learnedController))).some(Boolean);
}
