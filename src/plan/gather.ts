// The plan's inputs, gathered: the model's shape from its folder's config.json (no weights are read; the shape
// folders under bench/shapes/ have none), the device (named, or detected from the backend), this machine's memory and
// cores, and what the run trains. makeRunPlan (run-plan.ts) does the arithmetic.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backendAutoPicked, currentBackend } from '../backend';
import type { ExperimentConfig } from '../config';
import { KitError } from '../errors';
import { DecoderConfig, loadHfConfig } from '../lm/config';
import { isLearnedController, headInputWidthOf } from '../policy/registry';
import { runTrainsTheta } from '../rl/schedule';
import { DeviceSpec, deviceSpec, makeRunPlan, PlanBackend, PlanInput, RunPlan } from './run-plan';

/** The backend as the plan sees it: started (name and detail, as src/backend.ts reports them) or only asked for. */
export interface BackendView {
  /** 'auto' or a backend name: asked for, not started. */
  requested?: string;
  /** The started backend. */
  started?: { name: PlanBackend; detail: string; autoPicked: boolean };
}

/** The running backend as the plan sees it (src/backend.ts), or 'auto' when none has started. */
export function runningBackend(): BackendView {
  const b = currentBackend();
  return b ? { started: { name: b.name, detail: b.detail, autoPicked: backendAutoPicked() } } : { requested: 'auto' };
}

/** Prompt tokens the plan assumes, by task (it does not tokenise): benchmark prompts with a chat template and the
 *  "boxed" instruction are a few hundred tokens (512 covers most of MATH's); the synthetic tasks' are under 64 (the
 *  guess testbed's: 19–24); known-answer's: 1. */
export function promptTokensFor(cfg: Pick<ExperimentConfig, 'task'>): { tokens: number; source: string } {
  if (cfg.task.name === 'benchmark') return { tokens: 512, source: "assumed for task 'benchmark' (--prompt-tokens sets it)" };
  if (cfg.task.name === 'known-answer') return { tokens: 1, source: "task 'known-answer'" };
  return { tokens: 64, source: `assumed for synthetic task '${cfg.task.name}' (prompts under 64 tokens)` };
}

/** The checkpoint's dtype as config.json states it (torch_dtype), or null. */
export function checkpointDtype(dir: string): string | null {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { torch_dtype?: unknown };
    return typeof raw.torch_dtype === 'string' ? raw.torch_dtype : null;
  } catch {
    return null;
  }
}

/** GPU memory named by a webgpu adapter's description (e.g. 'NVIDIA H100 80GB HBM3'), or null when it does not say. */
export function deviceFromAdapter(desc: string): string | number | null {
  if (/llvmpipe|lavapipe|swiftshader|software/i.test(desc)) return 'cpu';
  const gbm = /(\d+(?:\.\d+)?)\s*GB\b/i.exec(desc);
  if (gbm) return Number(gbm[1]);
  if (/\bH200\b/i.test(desc)) return 'h200';
  if (/\bH100\b/i.test(desc)) return 'h100';
  return null;
}

/**
 * The device: `flag` (plan --device) or config key device.memory when not 'auto'; else from the backend — the CPU
 * backends (and tfjs-node, lavapipe) run in this machine's memory (os.totalmem()); a webgpu adapter whose name says
 * its card or memory; otherwise the device key must say it.
 */
export function resolveDevice(cfg: Pick<ExperimentConfig, 'device'>, b: BackendView, o: { flag?: string; hostBytes?: number } = {}): DeviceSpec {
  const hostBytes = o.hostBytes ?? os.totalmem();
  const name = b.started?.name ?? (b.requested === undefined || b.requested === 'auto' ? undefined : b.requested);
  const cpuBackend = name === 'wasm' || name === 'cpu';
  if (o.flag !== undefined) return deviceSpec(o.flag, { hostBytes, where: `--device ${o.flag}`, cpuBackend });
  if (cfg.device.memory !== 'auto') return deviceSpec(cfg.device.memory, { hostBytes, where: "config key 'device.memory'", cpuBackend });
  if (!b.started) {
    if (name === 'webgpu' || name === 'tensorflow') {
      throw new KitError(
        `backend '${name}': the device's memory is not known before it starts; set config key 'device.memory' (h100, h200 or a number of GB), e.g. --set device.memory=h100`,
      );
    }
    return deviceSpec('cpu', { hostBytes, where: 'this machine' });
  }
  const s = b.started;
  if (s.name === 'wasm' || s.name === 'cpu' || (s.name === 'tensorflow' && !/gpu/i.test(s.detail)))
    return deviceSpec('cpu', { hostBytes, where: 'this machine' });
  if (s.name === 'webgpu') {
    const d = deviceFromAdapter(s.detail);
    if (d !== null) {
      const spec = deviceSpec(d, { hostBytes, where: `adapter '${s.detail}'` });
      return d === 'cpu' ? { ...spec, source: `os.totalmem() (software adapter ${s.detail})` } : spec;
    }
  }
  throw new KitError(
    `backend ${s.name} (${s.detail}): its device memory cannot be read; set config key 'device.memory' (h100, h200 or a number of GB), e.g. --set device.memory=h100`,
  );
}

/** Whether a run of `cfg` trains θ and φ. */
export function whatTrains(cfg: Pick<ExperimentConfig, 'schedule' | 'controller'>): { theta: boolean; phi: boolean } {
  const learned = isLearnedController(cfg.controller.name);
  return { theta: runTrainsTheta(cfg.schedule, learned), phi: learned && cfg.schedule.mode !== 'token-only' };
}

/** Evaluation rows in all where the config says (a synthetic task: eval.problems × k), else null. */
function evalRowsTotal(cfg: ExperimentConfig): number | null {
  if (cfg.task.name === 'benchmark') return cfg.eval.problems > 0 ? cfg.eval.problems * cfg.eval.k * cfg.task.evalBenchmarks.length : null;
  return cfg.eval.problems * cfg.eval.k;
}

export interface GatherOptions {
  backend: BackendView;
  /** The model folder (default cfg.model.dir; a known-answer run's constructed folder is passed by its caller). */
  modelDir?: string;
  /** The model's shape when already loaded (skips config.json). */
  modelConfig?: DecoderConfig;
  /** plan --device. */
  device?: string;
  promptTokens?: number;
  /** Evaluation only: nothing trains. */
  evalOnly?: boolean;
  hostBytes?: number;
  cores?: number;
}

/** The plan's input for `cfg`. */
export function gatherPlanInput(cfg: ExperimentConfig, o: GatherOptions): PlanInput {
  const dir = o.modelDir ?? cfg.model.dir;
  const config = o.modelConfig ?? loadHfConfig(dir);
  const device = resolveDevice(cfg, o.backend, { flag: o.device, hostBytes: o.hostBytes });
  // A CPU device is this machine: a size given for it (device.memory, --device with a CPU backend) is the machine's.
  const hostBytes = device.kind === 'cpu' ? device.bytes : (o.hostBytes ?? os.totalmem());
  const trains = o.evalOnly ? { theta: false, phi: false } : whatTrains(cfg);
  const prompt = o.promptTokens !== undefined ? { tokens: o.promptTokens, source: '--prompt-tokens' } : promptTokensFor(cfg);
  const started = o.backend.started;
  const requested = o.backend.requested === undefined || o.backend.requested === 'auto' ? 'auto' : (o.backend.requested as PlanBackend);
  return {
    cfg,
    model: { dir, config, checkpointDtype: o.modelConfig ? null : checkpointDtype(dir) },
    device,
    backend: started ? started.name : requested,
    autoPicked: started ? started.autoPicked : requested === 'auto',
    simd: started ? !/simd off/.test(started.detail) : true,
    trainsTheta: trains.theta,
    trainsPhi: trains.phi,
    headInputWidth: trains.phi && cfg.schedule.mode !== 'joint' ? headInputWidthOf(cfg.controller.name, config.hiddenSize) : 0,
    promptTokens: prompt.tokens,
    promptSource: prompt.source,
    evalRowsTotal: evalRowsTotal(cfg),
    hostBytes,
    cores: o.cores ?? os.cpus().length,
  };
}

/** gatherPlanInput, then makeRunPlan. */
export function planFor(cfg: ExperimentConfig, o: GatherOptions): RunPlan {
  return makeRunPlan(gatherPlanInput(cfg, o));
}
