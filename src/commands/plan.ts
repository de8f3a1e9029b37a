// `introllm plan`: the run's memory and device plan (src/plan/run-plan.ts) for a preset, config file, method and --set
// values on a device — which backend, where θ's optimiser state lives, rows per rollout chunk, update micro-batch and
// evaluation chunk, the evaluation's KV budget, runs at a time, and each phase's memory and estimated time — without
// loading any weights: the model folder's config.json is enough (bench/shapes/* hold only that). `train` and
// `reproduce` print the same plan and refuse a run it says cannot fit.
import type { Command } from '../cli';
import { ConfigOverride, resolveConfig } from '../config';
import { KitError } from '../errors';
import { METHOD_NAMES, methodOverride } from '../experiments/methods';
import { requireModelFolder } from '../lm/config';
import { planFor } from '../plan/gather';
import { formatPlan } from '../plan/run-plan';
import { modelDirFor } from '../tasks/registry';
import { parseFlags } from './args';
import { CONFIG_FLAGS, configInputs, configUsage, setLayers } from './config-flags';

export const command: Command = {
  summary: "Print the memory and device plan of a run (backend, θ's optimiser state, chunk sizes, memory and time per phase) without loading weights.",
  usage:
    `introllm plan ${configUsage()} [--method ${METHOD_NAMES.join('|')}] [--device cpu|h100|h200|GB] [--backend NAME] [--prompt-tokens N] [--json]\n\n` +
    "  --device: the device to plan for (default: config key device.memory, 'auto': this machine on the CPU backends).\n" +
    '  A number of GB is a GPU of that memory (with --backend wasm|cpu: a machine of that memory).\n' +
    '  --json prints one object: fits, runnable, reason and overrides (when it does not fit or run), device_bytes, peak_bytes,\n' +
    '  rollout_rows, update_rows, eval_rows, eval_kv_budget_bytes, jobs, phases (memory and estimated seconds each), ….\n' +
    '  Exit status 0 when the run fits, 1 when it does not.',
  async run(argv) {
    const f = parseFlags(argv, {
      ...CONFIG_FLAGS,
      method: { type: 'string' },
      device: { type: 'string' },
      backend: { type: 'string' },
      'prompt-tokens': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const inputs = configInputs(f);
    const overrides: ConfigOverride[] = [];
    if (f.method !== undefined) overrides.push({ source: `--method ${f.method}`, kind: 'method', value: methodOverride(f.method as string) });
    overrides.push(...setLayers(inputs));
    const cfg = resolveConfig({ preset: inputs.preset, configFile: inputs.configFile, overrides });
    const backend = f.backend as string | undefined;
    if (backend !== undefined && !['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'].includes(backend)) {
      throw new KitError(`--backend: unknown backend '${backend}'; valid: auto, tensorflow, webgpu, wasm, cpu`);
    }
    let promptTokens: number | undefined;
    if (f['prompt-tokens'] !== undefined) {
      promptTokens = Number(f['prompt-tokens']);
      if (!Number.isInteger(promptTokens) || promptTokens < 1) throw new KitError(`--prompt-tokens must be a positive integer, got '${f['prompt-tokens']}'`);
    }
    if (f.device === '') throw new KitError('--device needs a value: cpu, h100, h200 or a number of GB');
    const modelDir = modelDirFor(cfg);
    requireModelFolder(modelDir);
    const plan = planFor(cfg, { backend: { requested: backend }, modelDir, device: f.device as string | undefined, promptTokens });
    console.log(f.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
    return plan.fits ? 0 : 1;
  },
};
