// Coordinate ascent (paper-notes.md, "Training"): which parameters move at an RL step. In 'alternate' mode blocks of
// tokenSteps steps update the token policy θ with φ frozen, then tempSteps steps update the temperature policy φ with
// θ frozen (token block first: the paper's order is not known to us). Controllers without parameters (fixed, EDT, EAD,
// TAMPO) always train θ only.
import { ScheduleMode } from '../config';

export type Phase = 'token' | 'temperature' | 'joint';

/** The phase of 0-based RL step `step`. */
export function phaseAt(step: number, s: { mode: ScheduleMode; tokenSteps: number; tempSteps: number }, learnedController: boolean): Phase {
  if (!learnedController) return 'token';
  switch (s.mode) {
    case 'token-only': return 'token';
    case 'temperature-only': return 'temperature';
    case 'joint': return 'joint';
    case 'alternate': return step % (s.tokenSteps + s.tempSteps) < s.tokenSteps ? 'token' : 'temperature';
  }
}

export const trainsTheta = (p: Phase) => p === 'token' || p === 'joint';
export const trainsPhi = (p: Phase) => p === 'temperature' || p === 'joint';

/** Whether θ trains at some step of a run with this schedule: the phases of one cycle, by phaseAt. */
export function runTrainsTheta(s: { mode: ScheduleMode; tokenSteps: number; tempSteps: number }, learnedController: boolean): boolean {
  const cycle = Math.max(1, s.tokenSteps + s.tempSteps);
  return Array.from({ length: cycle }, (_, step) => trainsTheta(phaseAt(step, s, learnedController))).some(Boolean);
}
