// Per-step time breakdown of RL training (rollout / reward / update) and the temperature controller's share of the
// rollout time, measured on real training steps of a preset (docs/benchmarks.md#rl-step-tiny-preset). The paper calls
// the head's overhead negligible; this measures it for each method in one process.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveConfig, setOverrides } from '../config';
import { KitError } from '../errors';
import { methodOverride } from '../experiments/methods';
import { closeRun, openRun, trainStep } from '../rl/trainer';

export interface RlBenchRow {
  method: string;
  steps: number;
  rollout_ms: number;
  controller_ms: number;
  /** controller_ms / rollout_ms: the share of rollout time spent choosing τ (head forward + sampling τ). */
  controller_share: number;
  decode_ms: number;
  reward_ms: number;
  update_ms: number;
  step_ms: number;
  tokens_per_step: number;
  /** Generated tokens per second of the whole step (rollout + reward + update). */
  step_tokens_per_s: number;
  rollouts_per_step: number;
}

/**
 * `rollouts`: rollouts per step (prompts per step × group size; the preset's group size is kept), or the preset's.
 * `o.configFile` and `o.sets` change the preset's config as `train --config` and `--set` do.
 */
export async function benchRl(preset: string, methods: string[], steps: number, seed: number, rollouts?: number,
  o: { configFile?: string; sets?: readonly string[] } = {}): Promise<RlBenchRow[]> {
  const G = resolveConfig({ preset, configFile: o.configFile, overrides: setOverrides(o.sets ?? []) }).rollout.groupSize;
  if (rollouts !== undefined && rollouts % G !== 0) throw new KitError(`--rollouts ${rollouts} must be a multiple of the preset's group size ${G}`);
  const perStep = rollouts === undefined ? {} : { rollout: { promptsPerStep: rollouts / G } };
  const rows: RlBenchRow[] = [];
  for (const method of methods) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'introllm-benchrl-'));
    try {
      const cfg = resolveConfig({ preset, configFile: o.configFile, overrides: [{ source: `method ${method}`, kind: 'method', value: methodOverride(method) }, ...setOverrides(o.sets ?? []),
        { source: 'bench', value: { seed, train: { steps: steps + 1 }, ...perStep } }] });
      const run = await openRun(cfg, dir);
      trainStep(run, 0); // warm-up: kernel set-up, Adam slots
      const recs = Array.from({ length: steps }, (_, i) => trainStep(run, i + 1));
      closeRun(run);
      const avg = (k: string) => recs.reduce((a, r) => a + (r[k] as number), 0) / steps;
      const rollout = avg('time/rollout_ms');
      const ctl = avg('time/controller_ms');
      rows.push({
        method, steps, rollout_ms: rollout, controller_ms: ctl, controller_share: ctl / rollout, decode_ms: avg('time/decode_ms'),
        reward_ms: avg('time/reward_ms'), update_ms: avg('time/update_ms'),
        step_ms: avg('time/rollout_ms') + avg('time/reward_ms') + avg('time/update_ms'), tokens_per_step: avg('train/tokens'),
        step_tokens_per_s: avg('train/tokens') / ((avg('time/rollout_ms') + avg('time/reward_ms') + avg('time/update_ms')) / 1000),
        rollouts_per_step: cfg.rollout.promptsPerStep * G,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
