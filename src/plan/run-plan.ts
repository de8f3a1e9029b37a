// One memory and device plan per run, made once, before anything is loaded: from the backend, the device's memory,
// the model's shape (its config.json alone) and the run's config, a pure function (makeRunPlan) decides
//   * the backend and matMul route (on wasm: whether the 4 GiB heap holds the model, with or without XNNPACK's packed
//     weight copies; otherwise the pure-JavaScript cpu backend),
//   * where θ's optimiser state lives (the backend, or host memory: HostAdam),
//   * rollout rows per chunk, update rows per micro-batch, evaluation rows per chunk and its KV-cache budget,
//   * how many runs a reproduction runs at a time,
// with the memory of each phase (weights, optimiser state, KV cache, activations, logits) and an estimated time per
// phase from the dispatch-and-bandwidth model of results/gpu/README.md. `introllm plan` prints it; `train` and
// `reproduce` print it, record it and refuse a run it says cannot fit; the loader, evaluation and `reproduce` read their
// decisions from it (docs/plan.md).
//
// Everything here is arithmetic on numbers; gathering them (the model folder, the machine, the started backend) is
// src/plan/gather.ts. Times are ESTIMATES: no GPU has run the kit yet, and the constants below say what is assumed.
import type { ExperimentConfig } from '../config';
import { KitError } from '../errors';
import type { DecoderConfig } from '../lm/config';
import { expectedWeights } from '../lm/config';
import { numel } from '../lm/safetensors';

// ── Devices ─────────────────────────────────────────────────────────────────────────────────────────────────────

export type GemmRoute = 'batched' | 'all' | 'tfjs';
export const GEMM_ROUTE_NAMES: readonly GemmRoute[] = ['batched', 'all', 'tfjs'];
export type PlanBackend = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
/** Where θ's gradients and Adam's moments live: 'none' (θ frozen), 'device' (on the backend), 'host' (HostAdam). */
export type ThetaState = 'none' | 'device' | 'host';

export interface DeviceSpec {
  /** 'cpu', 'h100', 'h200', or e.g. '40 GB'. */
  name: string;
  /** 'cpu': the backend's tensors live in this machine's memory (wasm's heap, JavaScript arrays); 'gpu': on a card. */
  kind: 'cpu' | 'gpu';
  /** Memory of the device in bytes (for 'cpu': the machine's). */
  bytes: number;
  /** Where the size came from: 'os.totalmem()', '--device h100', "config key 'device.memory'", the adapter's name. */
  source: string;
  /** Memory bandwidth, bytes/s (assumed; see the time model). */
  bandwidth: number;
  /** Achieved float32 arithmetic, FLOP/s (assumed). */
  flops: number;
  /** Host-side cost of one kernel launch (a webgpu dispatch, a wasm kernel call), seconds (assumed). */
  dispatchSeconds: number;
  /** Per decode step: the sampler's device → host read of the logits, seconds (0 where tensors are host memory). */
  readbackSeconds: number;
}

/** Named GPUs: memory as sold (GB = 1e9 bytes), HBM bandwidth from the data sheets. */
export const GPU_DEVICES: Record<string, { bytes: number; bandwidth: number; label: string }> = {
  h100: { bytes: 80e9, bandwidth: 3.35e12, label: 'NVIDIA H100 SXM, 80 GB HBM3, 3.35 TB/s' },
  h200: { bytes: 141e9, bandwidth: 4.8e12, label: 'NVIDIA H200, 141 GB HBM3e, 4.8 TB/s' },
};

/** Time model constants. GPU: results/gpu/README.md's c = 10 µs per dispatch and ≈ 50 µs for the sampler's read per
 *  step; the achieved float32 rate of tfjs's WebGPU shaders is not measured: 10 TFLOP/s (about 15% of an H100's or
 *  H200's 67 TFLOP/s float32 peak) is assumed. CPU (wasm, one thread): ≈ 20 µs per kernel call (the tiny model's
 *  ~270-kernel decode steps at B32, docs/benchmarks.md), ≈ 12 GB/s (Qwen2.5-0.5B decoding at B1: 2 GB of weights in
 *  165 ms) and ≈ 20 GFLOP/s (the matMul kernels' 6–13 GMAC/s). Host memory for a GPU run: 25 GB/s over PCIe. */
export const TIME_MODEL = {
  gpu: { dispatchSeconds: 10e-6, readbackSeconds: 50e-6, flops: 10e12 },
  cpu: { dispatchSeconds: 20e-6, readbackSeconds: 0, flops: 20e9, bandwidth: 12e9 },
  pcieBandwidth: 25e9,
  /** Kernels of one decode step: ≈ 58 per layer and ≈ 30 for the head and sampling (results/gpu/README.md). */
  decodeDispatchesPerLayer: 58,
  decodeDispatchesFixed: 30,
  /** Kernels of one forward + backward + Adam step: ≈ 350 per layer and ≈ 100 besides. */
  trainDispatchesPerLayer: 350,
  trainDispatchesFixed: 100,
} as const;

/** A device by name: 'cpu' (this machine: `hostBytes`), 'h100', 'h200', or a number of GB (a GPU of that memory, or
 *  with a CPU backend the machine's memory). `where` names the flag or key in errors. */
export function deviceSpec(spec: string | number, o: { hostBytes: number; where: string; cpuBackend?: boolean }): DeviceSpec {
  const s = typeof spec === 'number' ? spec : spec.trim().toLowerCase();
  const cpu = (bytes: number, source: string): DeviceSpec => ({
    name: source === 'os.totalmem()' ? 'cpu' : `cpu (${+(bytes / 1e9).toFixed(2)} GB)`,
    kind: 'cpu',
    bytes,
    source,
    bandwidth: TIME_MODEL.cpu.bandwidth,
    flops: TIME_MODEL.cpu.flops,
    dispatchSeconds: TIME_MODEL.cpu.dispatchSeconds,
    readbackSeconds: 0,
  });
  const gpu = (name: string, bytes: number, bandwidth: number, source: string): DeviceSpec => ({
    name,
    kind: 'gpu',
    bytes,
    source,
    bandwidth,
    flops: TIME_MODEL.gpu.flops,
    dispatchSeconds: TIME_MODEL.gpu.dispatchSeconds,
    readbackSeconds: TIME_MODEL.gpu.readbackSeconds,
  });
  if (s === 'cpu') return cpu(o.hostBytes, 'os.totalmem()');
  if (typeof s === 'string' && s in GPU_DEVICES) return gpu(s, GPU_DEVICES[s].bytes, GPU_DEVICES[s].bandwidth, o.where);
  const gb = typeof s === 'number' ? s : /^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;
  if (!(gb > 0) || !Number.isFinite(gb)) {
    throw new KitError(`${o.where}: unknown device ${JSON.stringify(spec)}; valid: cpu, ${Object.keys(GPU_DEVICES).join(', ')}, or a number of GB (e.g. 40)`);
  }
  // A GPU of unknown make: the H100's bandwidth is assumed.
  return o.cpuBackend ? cpu(gb * 1e9, o.where) : gpu(`${+gb.toFixed(2)} GB`, gb * 1e9, GPU_DEVICES.h100.bandwidth, o.where);
}

// ── The wasm heap (moved here from src/backend.ts: the plan decides, the backend applies) ───────────────────────

/** The wasm backend's heap: 32-bit addresses. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/** Room a run needs on the heap besides the weights: an evaluation chunk's KV cache (WASM_EVAL_KV_BYTES),
 *  activations, φ. */
export const WASM_WORK_BYTES = 2 ** 30;

/** On wasm, the evaluation's KV-cache budget: three quarters of WASM_WORK_BYTES (a 0.6B model's cache takes 229 KB
 *  per row and position, so 64 rows of a 400-token prompt + 32 new tokens would need 6.3 GB, more than the heap). */
export const WASM_EVAL_KV_BYTES = 768 * 2 ** 20;

/**
 * The wasm heap a model needs, estimated. With XNNPACK running the 2-D matMuls (`packed`, the default route), its
 * float32 weights twice — XNNPACK keeps a packed copy of every weight matrix it has multiplied with (measured: a
 * [1024, 151936] matrix grows the process by 580 MB at its first matMul) — plus WASM_WORK_BYTES; with the kit's own
 * matMul everywhere (route 'all', src/lm/kernels/gemm.ts) the weights once. Training θ with its state on the device adds
 * three times the weights (the gradients and Adam's two moments); with its state on the host only the largest tensor
 * (`largestBytes`: the one gradient that exists whole on the heap, the LM head's, and the new copy of a weight being
 * written back). Qwen2.5-0.5B's 1.98 GB need 5.03 GB packed (its training aborted in XNNPACK) and 3.05 GB lean, 8.98 GB
 * to train θ on the device and 3.59 GB on the host; Qwen3-0.6B's 2.38 GB need 5.84 and 3.46 GB, 10.61 GB to train θ
 * on the device and 4.08 GB on the host.
 */
export function wasmHeapNeeded(weightBytes: number, packed = true, theta: ThetaState = 'none', largestBytes = 0): number {
  return ((packed ? 2 : 1) + (theta === 'device' ? 3 : 0)) * weightBytes + WASM_WORK_BYTES + (theta === 'host' ? largestBytes : 0);
}

const gb = (b: number) => (b / 1e9).toFixed(2);

export interface WasmFit {
  /** 'wasm', or 'cpu' when nothing fits the heap and wasm was picked automatically. */
  backend: 'wasm' | 'cpu';
  gemm: GemmRoute;
  theta: ThetaState;
  /** Whether the model fits the heap as planned (false: wasm was asked for by name and stays). */
  fits: boolean;
  /** The heap it needs as planned. */
  heapNeed: number;
  /** Whether XNNPACK keeps packed weight copies (route other than 'all'). */
  packed: boolean;
  /** What changed from the default, and why (one line each). */
  lines: string[];
}

/**
 * On wasm, the first of these that fits the 4 GiB heap is taken —
 *   1. the default matMul route (XNNPACK's packed copies), θ's training state on the heap;
 *   2. the kit's matMul for every product (route 'all': no packed copies), θ's state on the heap;
 *   3. and 4. the same two with θ's gradients and Adam's moments in host memory (only with thetaAdam 'auto');
 * a model for which none fits moves to the cpu backend (pure JavaScript, no heap limit, slower) when wasm was picked
 * automatically, or stays (fits: false) when it was asked for by name. A matMul route set in the config (device.gemm)
 * is kept, with a warning when it will not fit; device.thetaAdam = host | device fixes where θ's state goes.
 */
export function fitWasm(o: {
  weightBytes: number;
  largestBytes: number;
  trainsTheta: boolean;
  thetaAdam: 'auto' | 'host' | 'device';
  gemm: 'auto' | GemmRoute;
  simd: boolean;
  autoPicked: boolean;
  what: string;
}): WasmFit {
  const forced = o.thetaAdam === 'auto' ? null : o.thetaAdam;
  const states: ThetaState[] = !o.trainsTheta ? ['none'] : forced ? [forced] : ['device', 'host'];
  const plans = states
    .flatMap((state) => [{ state, packed: true }, ...(o.simd ? [{ state, packed: false }] : [])])
    .map((p) => ({ ...p, need: wasmHeapNeeded(o.weightBytes, p.packed, p.state, o.largestBytes) }));
  const sizes = `${o.what} has ${gb(o.weightBytes)} GB of float32 weights${o.trainsTheta ? ' and the run trains them' : ''}`;
  const userRoute = o.gemm === 'auto' ? null : o.gemm;
  const plan = plans.find((p) => p.need <= WASM_HEAP_BYTES);
  const lines: string[] = [];
  if (plan) {
    let gemm: GemmRoute = userRoute ?? 'batched';
    if (!plan.packed && gemm !== 'all') {
      const packedNeed = plans.find((p) => p.state === plan.state && p.packed)!.need;
      const why = `${sizes}: with XNNPACK's packed copies they would need about ${gb(packedNeed)} GB of the ${gb(WASM_HEAP_BYTES)} GB heap, without them ${gb(plan.need)} GB`;
      if (userRoute) {
        lines.push(`warning: ${why}; device.gemm = ${userRoute} keeps XNNPACK (expect an abort in xnn_create_fully_connected)`);
      } else {
        gemm = 'all';
        lines.push(`matMul route 'all' (the kit's kernel for every product, no packed weight copies): ${why}`);
      }
    }
    if (plan.state === 'host' && !forced) {
      const onHeap = plans.filter((p) => p.state === 'device').at(-1)!.need;
      lines.push(
        `θ's gradients and Adam's moments in host memory (handed over during the backward pass): ${sizes}; on the heap with them θ's training would need about ${gb(onHeap)} GB of the ${gb(WASM_HEAP_BYTES)} GB heap, with them on the host ${gb(plan.need)} GB`,
      );
    }
    const fits = !(userRoute && !plan.packed && userRoute !== 'all');
    return {
      backend: 'wasm',
      gemm,
      theta: plan.state,
      fits,
      heapNeed: fits ? plan.need : plans.find((p) => p.state === plan.state && p.packed)!.need,
      packed: gemm !== 'all',
      lines,
    };
  }
  const least = plans.at(-1)!;
  const why = `${sizes}; on wasm they need at least about ${gb(least.need)} GB of its ${gb(WASM_HEAP_BYTES)} GB heap${o.simd ? '' : " (the weights plus XNNPACK's packed copies)"}`;
  if (!o.autoPicked) {
    lines.push(`warning: ${why}; wasm was requested, so it stays (expect "memory access out of bounds"; --backend cpu has no such limit)`);
    return {
      backend: 'wasm',
      gemm: userRoute ?? (least.packed ? 'batched' : 'all'),
      theta: least.state,
      fits: false,
      heapNeed: least.need,
      packed: least.packed,
      lines,
    };
  }
  lines.push(`TF.js backend cpu instead of wasm: ${why}`);
  return { backend: 'cpu', gemm: userRoute ?? 'batched', theta: o.trainsTheta ? (forced ?? 'device') : 'none', fits: true, heapNeed: 0, packed: false, lines };
}

// ── The model ───────────────────────────────────────────────────────────────────────────────────────────────────

export interface PlanModel {
  dir: string;
  config: DecoderConfig;
  /** config.json's torch_dtype (the checkpoint's; the kit computes in float32 whatever it is), or null. */
  checkpointDtype: string | null;
}

/** Parameters, float32 bytes and the largest tensor of a config's model. */
export function modelSizes(cfg: DecoderConfig): { params: number; weightBytes: number; largestBytes: number } {
  let params = 0;
  let largest = 0;
  for (const s of expectedWeights(cfg).values()) {
    const n = numel(s);
    params += n;
    largest = Math.max(largest, n);
  }
  return { params, weightBytes: 4 * params, largestBytes: 4 * largest };
}

/** KV-cache bytes per row and position: keys and values of every layer, float32: 2 · layers · kvHeads · headDim · 4. */
export function kvBytesPerPosition(cfg: DecoderConfig): number {
  return 2 * cfg.numLayers * cfg.numKvHeads * cfg.headDim * 4;
}

// ── What the trainer can run today ─────────────────────────────────────────────────────────────────────────────

/**
 * Which chunk sizes the code honours: evaluation in chunks (src/eval/evaluate.ts), a step's rollout in chunks
 * (chunkedRollout, src/rl/rollout.ts) and its update in micro-batches with gradient accumulation (grpoUpdate,
 * src/rl/grpo-step.ts). A plan input may say otherwise (tests of the refusal).
 */
export const CHUNKING_SUPPORT = { rollout: true, update: true, eval: true };

// ── The plan ────────────────────────────────────────────────────────────────────────────────────────────────────

/** The part of an ExperimentConfig the plan reads. */
export type PlanConfig = Pick<ExperimentConfig, 'rollout' | 'grpo' | 'eval' | 'device' | 'schedule' | 'train' | 'task'>;

export interface PlanInput {
  cfg: PlanConfig;
  model: PlanModel;
  device: DeviceSpec;
  /** The backend asked for ('auto': the kit picks) or started. */
  backend: PlanBackend | 'auto';
  /** Whether the backend was (or will be) picked automatically: only then may the plan move wasm to cpu. */
  autoPicked: boolean;
  /** wasm with SIMD (the kit's matMul; route 'all' possible). */
  simd: boolean;
  trainsTheta: boolean;
  /** Whether the controller has parameters φ (a learned head): its update pass and frozen forward. */
  trainsPhi: boolean;
  /** Width of the learned head's input (h_t's d, or its features) when some update trains φ with θ frozen (the
   *  schedules temperature-only, sequential, alternate), else 0: what the rollout may record for it. */
  headInputWidth?: number;
  /** Prompt tokens per row, estimated (the plan does not tokenise); `promptSource` says where the number came from. */
  promptTokens: number;
  promptSource: string;
  /** Evaluation rows in all (problems × k × sets), or null where unknown (a benchmark's whole files). */
  evalRowsTotal: number | null;
  /** This machine, for runs at a time: its memory and cores. */
  hostBytes: number;
  cores: number;
  /** What the code honours (default CHUNKING_SUPPORT). */
  chunking?: { rollout: boolean; update: boolean; eval: boolean };
}

export interface PhaseMemory {
  weights: number;
  optimiser: number;
  kv_cache: number;
  activations: number;
  logits: number;
  total: number;
}

export interface PhasePlan {
  phase: 'rollout' | 'update' | 'eval';
  /** Rows per chunk (rollout, eval) or micro-batch (update). */
  rows: number;
  /** Rows in all (the step's batch; evaluation: problems × k, null where unknown). */
  of: number | null;
  /** Sequence positions per row: prompt + new tokens. */
  positions: number;
  memory: PhaseMemory;
  /** Estimated seconds per RL step (rollout, update) or for the whole evaluation (null where its size is unknown). */
  seconds_estimate: number | null;
  /** Estimated seconds per chunk / micro-batch. */
  seconds_per_chunk_estimate: number;
  /** Whether the code runs this chunk size today (CHUNKING_SUPPORT, or the chunk is the whole batch). */
  honoured: boolean;
  /** The config key that sets the chunk size, and whether the plan chose it ('auto') or the config did. */
  key: string;
  chosen_by: 'plan' | 'config';
}

export interface RunPlan {
  /** Every phase fits the device at the plan's chunk sizes. */
  fits: boolean;
  /** It fits and the code honours every chunk size it needs (else `pending` says which it does not). */
  runnable: boolean;
  /** When it does not fit: what does not fit, in words. */
  reason?: string;
  /** When it does not fit (or is not runnable): config changes that would make it fit, e.g. 'rollout.maxNewTokens=2048'. */
  overrides?: string[];
  /** Chunk sizes the code cannot honour yet, in words. */
  pending: string[];
  device: { name: string; kind: 'cpu' | 'gpu'; source: string };
  device_bytes: number;
  /** What the phases must fit in: the wasm heap, or the device less its reserve. */
  limit_bytes: number;
  limit_what: string;
  peak_bytes: number;
  peak_phase: string;
  backend: PlanBackend;
  gemm: GemmRoute | null;
  /** Threads of the kit's matMul on wasm and cpu (device.threads; 'auto' = this machine's cores); null elsewhere. */
  threads: number | null;
  theta_state: ThetaState;
  /** How an update of φ with θ frozen gets the head's inputs: 'recorded' by the rollout (host memory, no θ forward),
   *  'recomputed' by a forward of θ (when the record would exceed HEAD_INPUT_RECORD_BYTES), 'none' (no such update). */
  head_inputs: 'recorded' | 'recomputed' | 'none';
  webgpu_pool_bytes: number | null;
  model: {
    dir: string;
    model_type: string;
    parameters: number;
    weight_bytes: number;
    dtype: 'float32';
    checkpoint_dtype: string | null;
    layers: number;
    kv_heads: number;
    head_dim: number;
    vocab: number;
    kv_bytes_per_row_position: number;
  };
  prompt_tokens: number;
  prompt_tokens_source: string;
  rollout_batch: number;
  rollout_rows: number;
  update_rows: number;
  /** Evaluation rows per chunk at the plan's prompt estimate (the table's). */
  eval_rows: number;
  /** What evaluate() gets: at most this many rows per chunk, and no more than eval_kv_budget_bytes of KV cache holds at
   *  the actual prompts' length (on wasm the cap, 64, as the kit's evaluations have always had; elsewhere eval_rows). */
  eval_rows_max: number;
  eval_kv_budget_bytes: number;
  /** Runs at a time on this machine (`reproduce`), and what one run needs of its memory. */
  jobs: number;
  host_bytes_per_run: number;
  phases: PhasePlan[];
  /** Estimated seconds: one RL step (rollout + update), all train.steps, the evaluation (null when unknown). */
  time_estimate: { step_seconds: number; train_seconds: number; eval_seconds: number | null; model: string };
  /** Decisions the plan made and why (one line each). */
  notes: string[];
}

/** Most evaluation rows generated together (the kit's evaluations have always used 64). */
export const EVAL_MAX_ROWS = 64;
/** Above this many tokens (rows × positions) a training forward recomputes each layer in the backward pass
 *  (Decoder.checkpointTokens / recomputeTokens). */
export const CHECKPOINT_TOKENS = 8192;
/** Copies of the update's [rows, new tokens, vocab] logits alive at once (logits, logits / τ, log-softmax, and the
 *  gradient of one of them; the φ loss reads the frozen forward's too). */
export const UPDATE_LOGIT_COPIES = 5;
/** Decoding: [rows, vocab] logits, their tempered copy and the probabilities. */
export const DECODE_LOGIT_COPIES = 3;
/** GPU: reserved besides the buffer pool: 5% of the device and 1 GiB for the runtime (Dawn / CUDA context). */
export const GPU_RESERVE_FRACTION = 0.05;
export const GPU_RUNTIME_BYTES = 2 ** 30;
/** Share of this machine's memory the runs of a reproduction may take together (and one run on the cpu backend). */
export const HOST_SHARE = 0.8;
/** Most host memory a step's recorded head inputs (rows × new tokens × width float32) may take; above it a θ-frozen
 *  update of φ recomputes them with a forward of θ instead. */
export const HEAD_INPUT_RECORD_BYTES = 2 ** 30;
/** A Node process with the kit, TF.js and a tokenizer loaded, besides its tensors. */
export const HOST_RUNTIME_BYTES = 256 * 2 ** 20;

/** Forward intermediates of one layer per token (bytes): norms, q/k/v and their rotated copies, the attention output,
 *  the MLP's gate, up, activation and product, the residual sums. */
function tokenActBytes(c: DecoderConfig): number {
  return 4 * (10 * c.hiddenSize + 4 * (c.numHeads + c.numKvHeads) * c.headDim + 5 * c.intermediateSize);
}

interface Shape {
  c: DecoderConfig;
  params: number;
  w: number;
  largest: number;
  kvPos: number;
}

/** Memory of one rollout (or evaluation) chunk of `rows` rows, `prompt` + `newTokens` positions. */
function generationMemory(s: Shape, rows: number, prompt: number, newTokens: number, groupSize: number): Omit<PhaseMemory, 'weights' | 'optimiser' | 'total'> {
  const { c } = s;
  const S = prompt + newTokens;
  // Prefill computes repeated prompts once (whole groups in a chunk): one layer at a time, scores and probabilities.
  const distinct = Math.max(1, Math.ceil(rows / groupSize));
  const prefill = distinct * (prompt * tokenActBytes(c) + 2 * 4 * c.numHeads * prompt * prompt);
  const decode = rows * (tokenActBytes(c) + 2 * 4 * c.numHeads * S);
  return {
    kv_cache: rows * S * s.kvPos,
    activations: Math.max(prefill, decode) + rows * S * 4 /* the mask */,
    logits: DECODE_LOGIT_COPIES * rows * c.vocabSize * 4,
  };
}

/**
 * Memory of one update micro-batch of `rows` rows over `prompt` + `newTokens` positions: θ's forward + backward
 * (`theta` 'device' or 'host'; a host optimiser's streamed backward pass always recomputes), or with θ frozen the
 * forward alone (φ's passes read its logits and hidden states).
 */
function updateMemory(s: Shape, rows: number, prompt: number, newTokens: number, theta: ThetaState): Omit<PhaseMemory, 'weights' | 'optimiser' | 'total'> {
  const { c } = s;
  const S = prompt + newTokens;
  const att = 4 * c.numHeads * S * S; // one row's attention probabilities in one layer
  const mask = rows * S * S * 4; // the additive causal mask [rows, 1, 1, S, S]
  let activations: number;
  if (theta === 'none') {
    // No tape: one layer's intermediates at a time (each layer runs in its own tidy).
    activations = rows * (S * tokenActBytes(c) + 2 * att) + mask;
  } else if (theta === 'host' || rows * S > CHECKPOINT_TOKENS) {
    // Checkpointed: the tape holds each layer's input; one layer is recomputed at a time on chunks of whole rows, its
    // intermediates and their gradients (P, dP, dS and a temporary) alive together.
    const chunk = Math.min(rows, Math.max(1, Math.floor(CHECKPOINT_TOKENS / S)));
    activations = rows * c.numLayers * S * c.hiddenSize * 4 + chunk * (2 * S * tokenActBytes(c) + 4 * att + S * S * 4) + mask;
  } else {
    // Everything on the tape (each layer's intermediates and probabilities), plus one layer's gradients.
    activations = rows * (c.numLayers * (S * tokenActBytes(c) + att) + S * tokenActBytes(c) + 3 * att) + mask;
  }
  return {
    kv_cache: 0,
    activations: activations + rows * newTokens * c.hiddenSize * 4 * 2 /* the head's input, kept for φ */,
    logits: UPDATE_LOGIT_COPIES * rows * newTokens * c.vocabSize * 4,
  };
}

/** Estimated seconds of one generation chunk: prefill, then `newTokens` decode steps. */
function generationSeconds(s: Shape, d: DeviceSpec, rows: number, prompt: number, newTokens: number, groupSize: number): number {
  const { c } = s;
  const L = c.numLayers;
  const attnFlops = (rowsN: number, q: number, keys: number) => 4 * L * c.numHeads * c.headDim * q * keys * rowsN;
  const distinct = Math.max(1, Math.ceil(rows / groupSize));
  const dispatchesPerPass = TIME_MODEL.decodeDispatchesPerLayer * L + TIME_MODEL.decodeDispatchesFixed;
  const prefill =
    dispatchesPerPass * d.dispatchSeconds + Math.max(s.w / d.bandwidth, (2 * s.params * distinct * prompt + attnFlops(distinct, prompt, prompt / 2)) / d.flops);
  const meanS = prompt + newTokens / 2;
  const step =
    dispatchesPerPass * d.dispatchSeconds +
    d.readbackSeconds +
    Math.max((s.w + rows * meanS * s.kvPos) / d.bandwidth, (2 * s.params * rows + attnFlops(rows, 1, meanS)) / d.flops);
  return prefill + newTokens * step;
}

/** The rows of one prompt in a micro-batch of `rows` rows of a batch in groups of `group` (the blocks whose prompt
 *  positions the update's forward computes once, Decoder.forward's sharePrefix); 1 where the micro-batches cut groups
 *  unevenly (those are computed whole). */
export function sharedPromptRows(rows: number, group: number): number {
  return rows % group === 0 ? group : group % rows === 0 ? rows : 1;
}

/** Estimated seconds of one update micro-batch: `passes` forward + backward passes (θ's epochs, φ's frozen forward). */
function updateSeconds(
  s: Shape,
  d: DeviceSpec,
  rows: number,
  prompt: number,
  newTokens: number,
  o: { thetaPasses: number; phiPasses: number; theta: ThetaState; group: number },
): number {
  const { c } = s;
  const S = prompt + newTokens;
  // Each block of rows with one prompt computes its prompt positions once.
  const tokens = (rows / sharedPromptRows(rows, o.group)) * prompt + rows * newTokens;
  const recompute = tokens > CHECKPOINT_TOKENS ? 1 : 0;
  const attn = ((4 * c.numLayers * c.numHeads * c.headDim * S * S) / 2) * rows;
  const fwd = 2 * s.params * tokens + attn;
  const dispatches = TIME_MODEL.trainDispatchesPerLayer * c.numLayers + TIME_MODEL.trainDispatchesFixed;
  const thetaPass = dispatches * d.dispatchSeconds + Math.max((2 * s.w) / d.bandwidth, ((3 + recompute) * fwd) / d.flops);
  const phiPass = (dispatches / 3) * d.dispatchSeconds + Math.max(s.w / d.bandwidth, fwd / d.flops);
  return o.thetaPasses * thetaPass + o.phiPasses * phiPass;
}

/** Seconds of θ's Adam step per micro-batch-accumulated update: on the device 4 reads/writes of the weights; on the
 *  host the same at CPU speed plus the gradients and new weights over PCIe (GPU). */
function adamSeconds(s: Shape, d: DeviceSpec, theta: ThetaState): number {
  if (theta === 'none') return 0;
  if (theta === 'device') return (5 * s.w) / d.bandwidth;
  return (5 * s.w) / TIME_MODEL.cpu.bandwidth + (d.kind === 'gpu' ? (2 * s.w) / TIME_MODEL.pcieBandwidth : 0);
}

function divisorsDesc(n: number): number[] {
  const out: number[] = [];
  for (let i = n; i >= 1; i--) if (n % i === 0) out.push(i);
  return out;
}

/** Rollout chunk candidates, largest first: whole groups that divide the batch, then divisors of one group. */
function rolloutCandidates(prompts: number, group: number): number[] {
  return [...divisorsDesc(prompts).map((p) => p * group), ...divisorsDesc(group).filter((g) => g < group)];
}

/** Evaluation chunk candidates up to `cap`: whole problems (multiples of k) where a chunk holds one, as evaluate() does. */
function evalCandidates(cap: number, k: number): number[] {
  const out = new Set<number>();
  for (let r = cap; r >= 1; r--) out.add(r >= k ? r - (r % k) : r);
  return [...out].sort((a, b) => b - a);
}

const rowsOf = (v: number | 'auto'): number | null => (v === 'auto' ? null : v);

/**
 * The plan: a pure function of its input. Deterministic; reads no file, environment or clock. A plan that does not
 * fit, or that needs chunk sizes the code does not honour yet, comes with `overrides`: config changes, each tried
 * through the same function, that make it fit (and run).
 */
export function makeRunPlan(inp: PlanInput): RunPlan {
  const plan = planOnce(inp);
  if (!plan.runnable) plan.overrides = findOverrides(inp, plan);
  return plan;
}

type Tweak = { label: string; apply: (i: PlanInput) => PlanInput };

function withCfg(i: PlanInput, section: 'rollout' | 'grpo' | 'eval' | 'device', key: string, value: unknown): PlanInput {
  return { ...i, cfg: { ...i.cfg, [section]: { ...i.cfg[section], [key]: value } } };
}

/** Overrides that would make `inp` fit (or, when it fits, run today), most specific first; each checked by planning. */
function findOverrides(inp: PlanInput, plan: RunPlan): string[] {
  const goal = (p: RunPlan) => (plan.fits ? p.runnable : p.fits);
  const works = (i: PlanInput) => goal(planOnce(i));
  const out: string[] = [];
  const single: Tweak[] = [];
  // A chunk size the config fixed: 'auto' lets the plan choose.
  for (const [section, key] of [
    ['rollout', 'chunkRows'],
    ['grpo', 'microBatchRows'],
    ['eval', 'chunkRows'],
    ['eval', 'kvBudgetBytes'],
  ] as const) {
    if ((inp.cfg[section] as Record<string, unknown>)[key] !== 'auto')
      single.push({ label: `${section}.${key}=auto`, apply: (i) => withCfg(i, section, key, 'auto') });
  }
  if (inp.trainsTheta && plan.theta_state === 'device' && plan.backend !== 'cpu')
    single.push({ label: 'device.thetaAdam=host', apply: (i) => withCfg(i, 'device', 'thetaAdam', 'host') });
  if (plan.backend === 'wasm' && !inp.autoPicked && inp.device.kind === 'cpu')
    single.push({ label: '--backend cpu', apply: (i) => ({ ...i, backend: 'cpu' }) });
  for (const t of single) if (works(t.apply(inp))) out.push(t.label);
  // The largest generation lengths that fit; fewer prompts per step where chunking is what is missing.
  const largest = (hi: number, at: (n: number) => PlanInput): number | null => {
    if (hi < 1 || !works(at(1))) return null;
    let lo = 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (works(at(mid))) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const base = out.length && out[0] === 'device.thetaAdam=host' ? [] : [inp];
  for (const start of [
    ...base,
    ...(inp.trainsTheta && plan.theta_state === 'device' && plan.backend !== 'cpu' ? [withCfg(inp, 'device', 'thetaAdam', 'host')] : []),
  ]) {
    const prefix = start === inp ? '' : 'device.thetaAdam=host ';
    const rolloutPhaseBad = !plan.fits ? /rollout|update|weights|heap|memory/.test(plan.reason ?? '') : plan.pending.length > 0;
    if (rolloutPhaseBad) {
      const n = largest(inp.cfg.rollout.maxNewTokens - 1, (v) => withCfg(start, 'rollout', 'maxNewTokens', v));
      if (n !== null) out.push(`${prefix}rollout.maxNewTokens=${n}`);
    }
    if (!plan.fits && /evaluation/.test(plan.reason ?? '')) {
      const n = largest(inp.cfg.eval.maxNewTokens - 1, (v) => withCfg(start, 'eval', 'maxNewTokens', v));
      if (n !== null) out.push(`${prefix}eval.maxNewTokens=${n}`);
    }
    if (plan.fits && plan.pending.length > 0) {
      for (let prompts = inp.cfg.rollout.promptsPerStep - 1; prompts >= 1; prompts--) {
        if (works(withCfg(start, 'rollout', 'promptsPerStep', prompts))) {
          out.push(`${prefix}rollout.promptsPerStep=${prompts}`);
          break;
        }
      }
    }
    if (out.length) break;
  }
  if (!out.length && inp.trainsTheta && !plan.fits && works({ ...inp, trainsTheta: false }))
    out.push('schedule.mode=temperature-only (θ frozen: another experiment)');
  return [...new Set(out)];
}

function planOnce(inp: PlanInput): RunPlan {
  const { cfg, device } = inp;
  const chunking = inp.chunking ?? CHUNKING_SUPPORT;
  const c = inp.model.config;
  const sizes = modelSizes(c);
  const s: Shape = { c, params: sizes.params, w: sizes.weightBytes, largest: sizes.largestBytes, kvPos: kvBytesPerPosition(c) };
  const notes: string[] = [];
  const G = cfg.rollout.groupSize;
  const B = cfg.rollout.promptsPerStep * G;
  const P = Math.max(1, Math.min(inp.promptTokens, c.maxPositions - Math.max(cfg.rollout.maxNewTokens, cfg.eval.maxNewTokens)));
  const N = cfg.rollout.maxNewTokens;
  const NE = cfg.eval.maxNewTokens;
  const reference = cfg.grpo.klCoef > 0 ? 1 : 0;
  const thetaAdam = cfg.device.thetaAdam as 'auto' | 'host' | 'device';
  const gemmKey = cfg.device.gemm as 'auto' | GemmRoute;
  // φ's update with θ frozen reads the head inputs the rollout recorded (host memory) where they fit the budget; else
  // (or in a joint update) it runs a forward of θ.
  const headWidth = inp.trainsPhi ? (inp.headInputWidth ?? 0) : 0;
  const headBytes = headWidth * B * N * 4;
  const headInputs: RunPlan['head_inputs'] = headWidth === 0 ? 'none' : headBytes <= HEAD_INPUT_RECORD_BYTES ? 'recorded' : 'recomputed';
  const recordedBytes = headInputs === 'recorded' ? headBytes : 0;
  if (headInputs === 'recomputed')
    notes.push(
      `φ's update recomputes θ's forward for the head's inputs: recording them (${B} rows × ${N} tokens × ${headWidth}) would take ${gb(headBytes)} GB, more than ${gb(HEAD_INPUT_RECORD_BYTES)} GB`,
    );

  // 1. Backend, matMul route, and on wasm where θ's state lives.
  let backend: PlanBackend;
  let gemm: GemmRoute | null = null;
  let theta: ThetaState = inp.trainsTheta ? 'device' : 'none';
  let thetaDecided = !inp.trainsTheta || thetaAdam !== 'auto';
  if (inp.trainsTheta && thetaAdam !== 'auto') theta = thetaAdam;
  let limit: number;
  let limitWhat: string;
  let heapStatic = 0;
  let wasmFit: WasmFit | null = null;
  const want: PlanBackend = inp.backend === 'auto' ? (device.kind === 'gpu' ? 'webgpu' : 'wasm') : inp.backend;
  if (device.kind === 'gpu' && (want === 'wasm' || want === 'cpu')) {
    throw new KitError(
      `backend '${want}' runs on the CPU, but the device is a GPU (${device.name}); plan with --device cpu, or a GPU backend (webgpu, tensorflow)`,
    );
  }
  if (want === 'wasm') {
    wasmFit = fitWasm({
      weightBytes: s.w * (1 + reference),
      largestBytes: s.largest,
      trainsTheta: inp.trainsTheta,
      thetaAdam,
      gemm: gemmKey,
      simd: inp.simd,
      autoPicked: inp.autoPicked,
      what: inp.model.dir,
    });
    notes.push(...wasmFit.lines);
    backend = wasmFit.backend;
    gemm = wasmFit.gemm;
    theta = wasmFit.theta;
    thetaDecided = true;
  } else {
    backend = want;
    if (want === 'cpu') gemm = gemmKey === 'auto' ? 'batched' : gemmKey;
  }
  const poolBytes = backend === 'webgpu' ? cfg.device.webgpuPoolMB * 2 ** 20 : null;
  const threads = backend === 'wasm' || backend === 'cpu' ? (cfg.device.threads === 'auto' ? Math.max(1, inp.cores) : cfg.device.threads) : null;
  if (backend === 'wasm') {
    limit = WASM_HEAP_BYTES;
    limitWhat = `the wasm heap (${gb(WASM_HEAP_BYTES)} GB)`;
    heapStatic = wasmFit!.heapNeed - WASM_WORK_BYTES; // weights (twice with packed copies), θ's state or the largest tensor
  } else if (device.kind === 'gpu') {
    const reserve = GPU_RESERVE_FRACTION * device.bytes + GPU_RUNTIME_BYTES + (poolBytes ?? 0);
    limit = device.bytes - reserve;
    limitWhat = `the ${device.name in GPU_DEVICES ? device.name : 'device'}'s ${gb(device.bytes)} GB less ${gb(reserve)} GB reserved (5%, 1 GiB runtime${poolBytes ? ', the buffer pool' : ''})`;
  } else {
    // The tensors share this machine's memory with the process and the recorded head inputs.
    limit = HOST_SHARE * device.bytes - HOST_RUNTIME_BYTES - recordedBytes;
    limitWhat = `${HOST_SHARE * 100}% of this machine's ${gb(device.bytes)} GB less ${gb(HOST_RUNTIME_BYTES + recordedBytes)} GB for the process`;
  }

  // 2. Per phase: static memory (weights, optimiser state) and chunk sizes.
  // Weights (on wasm twice with XNNPACK's packed copies). θ's optimiser state on the device: Adam's two moments all the
  // time, the gradients as well during the update; on the host: only the largest tensor on the device in the update.
  // On wasm the heap decision's own figure (wasmHeapNeeded: 3 × the weights, or the largest tensor) stands throughout.
  const weightsShown = s.w * (1 + reference) * (backend === 'wasm' && wasmFit!.packed ? 2 : 1);
  const optShown = (phase: 'static' | 'update', t: ThetaState) =>
    backend === 'wasm' ? heapStatic - weightsShown : t === 'device' ? (phase === 'update' ? 3 : 2) * s.w : t === 'host' && phase === 'update' ? s.largest : 0;

  const build = (t: ThetaState, phase: PhasePlan['phase'], rows: number): PhaseMemory => {
    const m = phase === 'update' ? updateMemory(s, rows, P, N, t) : generationMemory(s, rows, P, phase === 'eval' ? NE : N, phase === 'eval' ? cfg.eval.k : G);
    const weights = weightsShown;
    const optimiser = optShown(phase === 'update' ? 'update' : 'static', t);
    return { weights, optimiser, ...m, total: weights + optimiser + m.kv_cache + m.activations + m.logits };
  };
  const fitsAt = (t: ThetaState, phase: PhasePlan['phase'], rows: number) => build(t, phase, rows).total <= limit;

  // Evaluation: rows per chunk and the KV budget.
  const evalRowsKey = rowsOf(cfg.eval.chunkRows as number | 'auto');
  const evalBudgetKey = cfg.eval.kvBudgetBytes === 'auto' ? null : (cfg.eval.kvBudgetBytes as number);
  const evalKvRow = (P + NE) * s.kvPos;
  const chooseEval = (t: ThetaState): { rows: number; budget: number } | null => {
    const cap = evalRowsKey ?? EVAL_MAX_ROWS;
    if (backend === 'wasm' && evalBudgetKey === null) {
      // On wasm the budget is the work room's share the heap decision reserved; rows follow from it.
      const fit = Math.max(1, Math.min(cap, Math.floor(WASM_EVAL_KV_BYTES / evalKvRow)));
      const rows = fit >= cfg.eval.k ? fit - (fit % cfg.eval.k) : fit;
      return fitsAt(t, 'eval', rows) ? { rows, budget: WASM_EVAL_KV_BYTES } : null;
    }
    const rowsList = evalRowsKey !== null ? [Math.min(evalRowsKey, cap)] : evalCandidates(cap, cfg.eval.k);
    for (const r of rowsList) {
      const m = build(t, 'eval', r);
      if (evalBudgetKey !== null) {
        const byBudget = Math.max(1, Math.floor(evalBudgetKey / evalKvRow));
        const rows = Math.min(r, byBudget);
        const mm = build(t, 'eval', rows);
        const total = mm.total - mm.kv_cache + evalBudgetKey;
        return total <= limit ? { rows, budget: evalBudgetKey } : null;
      }
      if (m.total <= limit) return { rows: r, budget: Math.max(m.kv_cache, limit - (m.total - m.kv_cache)) };
    }
    return null;
  };

  const choose = (t: ThetaState) => {
    const rolloutKey = rowsOf(cfg.rollout.chunkRows as number | 'auto');
    const updateKey = rowsOf(cfg.grpo.microBatchRows as number | 'auto');
    const rolloutList = rolloutKey !== null ? [Math.min(rolloutKey, B)] : rolloutCandidates(cfg.rollout.promptsPerStep, G);
    const updateList = updateKey !== null ? [Math.min(updateKey, B)] : divisorsDesc(B);
    const rollout = rolloutList.find((r) => fitsAt(t, 'rollout', r)) ?? null;
    const update = !inp.trainsTheta && !inp.trainsPhi ? 1 : (updateList.find((r) => fitsAt(t, 'update', r)) ?? null);
    const ev = chooseEval(t);
    return { rollout, update, ev, rolloutList, updateList };
  };
  let pick = choose(theta);
  if (!thetaDecided && inp.trainsTheta) {
    // GPU (or the cpu backend): θ's state on the device when every phase fits so; else in host memory.
    const ok = pick.rollout !== null && pick.update !== null && pick.ev !== null;
    if (!ok && backend !== 'cpu') {
      const host = choose('host');
      if (host.rollout !== null && host.update !== null && host.ev !== null) {
        notes.push(
          `θ's gradients and Adam's moments in host memory (HostAdam): with them on the device (${gb(3 * s.w)} GB in the update) a phase would not fit ${limitWhat}`,
        );
        theta = 'host';
        pick = host;
      }
    }
  }
  const needsUpdate = inp.trainsTheta || inp.trainsPhi;
  const rolloutRows = pick.rollout ?? pick.rolloutList[pick.rolloutList.length - 1];
  const updateRows = pick.update ?? pick.updateList[pick.updateList.length - 1];
  const evalPick = pick.ev ?? { rows: 1, budget: evalKvRow };
  const evaluates = inp.evalRowsTotal !== 0;
  // No more rows than the evaluation has (evaluate() is still handed the cap, eval_rows_max).
  const evalRows = inp.evalRowsTotal ? Math.min(evalPick.rows, inp.evalRowsTotal) : evalPick.rows;

  // 3. Phases with times.
  const epochsTheta = inp.trainsTheta ? cfg.grpo.epochs : 0;
  const phiPasses = inp.trainsPhi && headInputs !== 'recorded' ? 1 : 0;
  const rolloutChunks = Math.ceil(B / rolloutRows);
  const updateChunks = Math.ceil(B / updateRows);
  const rolloutChunkSec = generationSeconds(s, device, rolloutRows, P, N, G);
  const updateChunkSec = needsUpdate ? updateSeconds(s, device, updateRows, P, N, { thetaPasses: epochsTheta, phiPasses, theta, group: G }) : 0;
  const evalChunkSec = generationSeconds(s, device, evalRows, P, NE, cfg.eval.k);
  const evalSec = inp.evalRowsTotal === null ? null : Math.ceil(inp.evalRowsTotal / evalRows) * evalChunkSec;
  const evalKey = evalBudgetKey !== null ? 'eval.kvBudgetBytes' : 'eval.chunkRows';
  const phases: PhasePlan[] = [
    {
      phase: 'rollout',
      rows: rolloutRows,
      of: B,
      positions: P + N,
      memory: build(theta, 'rollout', rolloutRows),
      seconds_estimate: rolloutChunks * rolloutChunkSec,
      seconds_per_chunk_estimate: rolloutChunkSec,
      honoured: rolloutRows >= B || chunking.rollout,
      key: 'rollout.chunkRows',
      chosen_by: cfg.rollout.chunkRows === 'auto' ? 'plan' : 'config',
    },
    ...(needsUpdate
      ? [
          {
            phase: 'update' as const,
            rows: updateRows,
            of: B,
            positions: P + N,
            memory: build(theta, 'update', updateRows),
            seconds_estimate: updateChunks * updateChunkSec + epochsTheta * adamSeconds(s, device, theta),
            seconds_per_chunk_estimate: updateChunkSec,
            honoured: updateRows >= B || chunking.update,
            key: 'grpo.microBatchRows',
            chosen_by: (cfg.grpo.microBatchRows === 'auto' ? 'plan' : 'config') as 'plan' | 'config',
          },
        ]
      : []),
    ...(!evaluates
      ? []
      : [
          {
            phase: 'eval' as const,
            rows: evalRows,
            of: inp.evalRowsTotal,
            positions: P + NE,
            memory: { ...build(theta, 'eval', evalRows) },
            seconds_estimate: evalSec,
            seconds_per_chunk_estimate: evalChunkSec,
            honoured: chunking.eval,
            key: evalKey,
            chosen_by: (cfg.eval.chunkRows === 'auto' && cfg.eval.kvBudgetBytes === 'auto' ? 'plan' : 'config') as 'plan' | 'config',
          },
        ]),
  ];
  const peak = phases.reduce((a, p) => (p.memory.total > a.memory.total ? p : a));

  // 4. Does it fit? What does not.
  const problems: string[] = [];
  if (wasmFit && !wasmFit.fits) problems.push(wasmFit.lines.find((l) => l.startsWith('warning'))!.replace(/^warning: /, ''));
  const staticTotal = weightsShown + optShown('static', theta);
  if (limit <= 0) {
    problems.push(`${limitWhat} leaves no memory for the run`);
  } else if (staticTotal > limit) {
    problems.push(`the weights${theta === 'device' && backend !== 'wasm' ? " and θ's Adam moments" : ''} alone take ${gb(staticTotal)} GB of ${limitWhat}`);
  } else {
    if (pick.rollout === null)
      problems.push(
        `a rollout chunk of ${rolloutRows} row${rolloutRows === 1 ? '' : 's'} × ${P + N} positions needs ${gb(phases[0].memory.total)} GB of ${limitWhat}`,
      );
    if (needsUpdate && pick.update === null)
      problems.push(
        `an update micro-batch of ${updateRows} row${updateRows === 1 ? '' : 's'} × ${P + N} positions needs ${gb(build(theta, 'update', updateRows).total)} GB of ${limitWhat}`,
      );
    if (evaluates && pick.ev === null)
      problems.push(
        `an evaluation chunk of ${evalRows} row${evalRows === 1 ? '' : 's'} × ${P + NE} positions needs more than ${limitWhat}${evalBudgetKey !== null ? ` with eval.kvBudgetBytes = ${evalBudgetKey}` : ''}`,
      );
  }
  // Host memory: the process (and on wasm its heap) plus θ's state when it lives there, and the recorded head inputs.
  // With a GPU, 2 GB on the host for the rollout records, the tokenizer and the JS heap.
  const hostState = (theta === 'host' ? 3 * s.w : 0) + recordedBytes;
  const onHost =
    device.kind !== 'cpu' ? 2 * 1e9 : backend === 'wasm' ? heapStatic + Math.max(WASM_WORK_BYTES, peak.memory.total - heapStatic) : peak.memory.total;
  const hostPerRun = HOST_RUNTIME_BYTES + hostState + onHost;
  if (problems.length === 0 && device.kind === 'cpu' && hostPerRun > HOST_SHARE * inp.hostBytes)
    problems.push(`one run needs about ${gb(hostPerRun)} GB of this machine's memory, more than ${HOST_SHARE * 100}% of its ${gb(inp.hostBytes)} GB`);
  const fits = problems.length === 0;

  const pending: string[] = [];
  for (const p of phases) {
    if (p.honoured || p.of === null) continue;
    const what =
      p.phase === 'rollout'
        ? `rollout chunks of ${p.rows} of the step's ${p.of} rows (${p.key}): the trainer rolls out the whole batch at once`
        : `update micro-batches of ${p.rows} of ${p.of} rows (${p.key}): the trainer's GRPO update takes the whole batch at once`;
    pending.push(what);
  }

  // 5. Runs at a time: one per core up to 2, and no more than the device and this machine's memory hold.
  const byCores = Math.max(1, Math.min(2, inp.cores));
  const byHost = Math.max(1, Math.floor((HOST_SHARE * inp.hostBytes) / hostPerRun));
  const byDevice = device.kind === 'gpu' ? Math.max(1, Math.floor(limit / peak.memory.total)) : byHost;
  const jobs = Math.min(byCores, byHost, byDevice);

  const stepSeconds = phases.filter((p) => p.phase !== 'eval').reduce((a, p) => a + (p.seconds_estimate ?? 0), 0);
  const plan: RunPlan = {
    fits,
    runnable: fits && pending.length === 0,
    ...(fits ? {} : { reason: problems.join('; ') }),
    pending,
    device: { name: device.name, kind: device.kind, source: device.source },
    device_bytes: device.bytes,
    limit_bytes: limit,
    limit_what: limitWhat,
    peak_bytes: peak.memory.total,
    peak_phase: peak.phase,
    backend,
    gemm,
    threads,
    theta_state: theta,
    head_inputs: headInputs,
    webgpu_pool_bytes: poolBytes,
    model: {
      dir: inp.model.dir,
      model_type: c.modelType,
      parameters: s.params,
      weight_bytes: s.w,
      dtype: 'float32',
      checkpoint_dtype: inp.model.checkpointDtype,
      layers: c.numLayers,
      kv_heads: c.numKvHeads,
      head_dim: c.headDim,
      vocab: c.vocabSize,
      kv_bytes_per_row_position: s.kvPos,
    },
    prompt_tokens: P,
    prompt_tokens_source: inp.promptSource,
    rollout_batch: B,
    rollout_rows: rolloutRows,
    update_rows: needsUpdate ? updateRows : 0,
    eval_rows: evalRows,
    eval_rows_max: backend === 'wasm' && evalBudgetKey === null ? (evalRowsKey ?? EVAL_MAX_ROWS) : evalPick.rows,
    eval_kv_budget_bytes: evalPick.budget,
    jobs,
    host_bytes_per_run: hostPerRun,
    phases,
    time_estimate: {
      step_seconds: stepSeconds,
      train_seconds: stepSeconds * cfg.train.steps,
      eval_seconds: evalSec,
      model: `estimates, not measurements: per kernel ${device.dispatchSeconds * 1e6} µs, ${device.bandwidth >= 1e12 ? `${(device.bandwidth / 1e12).toFixed(2)} TB/s` : `${(device.bandwidth / 1e9).toFixed(0)} GB/s`}, ${device.flops >= 1e12 ? `${device.flops / 1e12} TFLOP/s` : `${device.flops / 1e9} GFLOP/s`} float32 achieved${device.readbackSeconds ? `, ${device.readbackSeconds * 1e6} µs per decode step for the sampler's read` : ''} (results/gpu/README.md's dispatch-and-bandwidth model, the larger of bytes / bandwidth and FLOPs / rate per pass)`,
    },
    notes,
  };
  return plan;
}

// ── Output ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** Bytes in GB (1e9), or MB below 1 GB. */
export function bytesText(b: number): string {
  if (b >= 1e9) return `${(b / 1e9).toFixed(b >= 1e10 ? 1 : 2)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(b >= 1e8 ? 0 : 1)} MB`;
  return b === 0 ? '0' : `${(b / 1e3).toFixed(1)} kB`;
}
const GB = bytesText;

/** Seconds as the largest sensible unit. */
export function duration(sec: number): string {
  if (sec < 1) return `${(sec * 1000).toFixed(0)} ms`;
  if (sec < 120) return `${sec.toFixed(1)} s`;
  if (sec < 7200) return `${(sec / 60).toFixed(1)} min`;
  if (sec < 2 * 86400) return `${(sec / 3600).toFixed(1)} h`;
  return `${(sec / 86400).toFixed(1)} days`;
}

/** The plan as text: a header, a table of the phases' memory and estimated time, the verdict, what is pending. */
export function formatPlan(p: RunPlan): string {
  const m = p.model;
  const lines: string[] = [];
  lines.push(
    `model ${m.dir}: ${m.model_type}, ${m.parameters >= 1e9 ? `${(m.parameters / 1e9).toFixed(2)} B` : `${(m.parameters / 1e6).toFixed(m.parameters >= 1e7 ? 0 : 2)} M`} parameters, ${GB(m.weight_bytes)} in float32` +
      `${m.checkpoint_dtype && m.checkpoint_dtype !== 'float32' ? ` (checkpoint ${m.checkpoint_dtype}; the kit computes in float32)` : ''}; ` +
      `KV cache ${m.kv_bytes_per_row_position.toLocaleString('en-US')} B per row and position (2 × ${m.layers} layers × ${m.kv_heads} KV heads × ${m.head_dim} × 4 B)`,
  );
  lines.push(
    `device ${p.device.name}: ${GB(p.device_bytes)} (${p.device.source}); backend ${p.backend}${p.gemm ? `, matMul route ${p.gemm}` : ''}${p.threads && p.threads > 1 ? ` on ${p.threads} threads` : ''}; ` +
      `θ's optimiser state: ${p.theta_state === 'none' ? 'none (θ frozen)' : p.theta_state === 'host' ? 'host memory (HostAdam)' : 'on the device'}` +
      `${p.head_inputs === 'recorded' ? "; φ's update reads the head inputs the rollout recorded" : p.head_inputs === 'recomputed' ? "; φ's update recomputes θ's forward" : ''}`,
  );
  lines.push(`limit ${GB(p.limit_bytes)}: ${p.limit_what}; prompts ${p.prompt_tokens} tokens (${p.prompt_tokens_source})`);
  const head = ['phase', 'rows', 'positions', 'weights', 'optimiser', 'KV cache', 'activations', 'logits', 'total', 'time (estimate)'];
  const rows = p.phases.map((ph) => [
    ph.phase,
    `${ph.rows}${ph.of !== null ? ` of ${ph.of}` : ''}${ph.honoured ? '' : ' *'}`,
    String(ph.positions),
    GB(ph.memory.weights),
    GB(ph.memory.optimiser),
    GB(ph.memory.kv_cache),
    GB(ph.memory.activations),
    GB(ph.memory.logits),
    GB(ph.memory.total),
    ph.seconds_estimate === null
      ? `${duration(ph.seconds_per_chunk_estimate)} per chunk`
      : `${duration(ph.seconds_estimate)}${ph.phase === 'eval' ? '' : ' per step'}${ph.of !== null && ph.rows < ph.of ? ` (${duration(ph.seconds_per_chunk_estimate)} per ${ph.phase === 'update' ? 'micro-batch' : 'chunk'})` : ''}`,
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) =>
    r
      .map((x, i) => (i === 0 || i === r.length - 1 ? x.padEnd(width[i]) : x.padStart(width[i])))
      .join('  ')
      .trimEnd();
  lines.push('', fmt(head), ...rows.map(fmt), '');
  lines.push(`peak ${GB(p.peak_bytes)} (${p.peak_phase}) of ${GB(p.limit_bytes)}: ${p.fits ? 'fits' : `DOES NOT FIT: ${p.reason}`}`);
  lines.push(
    `rollout ${p.rollout_rows} rows per chunk, update ${p.update_rows || '-'} rows per micro-batch, evaluation ${p.eval_rows} rows per chunk with a KV budget of ${GB(p.eval_kv_budget_bytes)}; ` +
      `${p.jobs} run${p.jobs === 1 ? '' : 's'} at a time on this machine (one needs about ${GB(p.host_bytes_per_run)} of its memory)`,
  );
  const t = p.time_estimate;
  lines.push(
    `time, estimated: ${duration(t.step_seconds)} per RL step, ${duration(t.train_seconds)} for the run's steps${t.eval_seconds !== null ? `, ${duration(t.eval_seconds)} for the evaluation` : ''}; ${t.model}`,
  );
  if (p.pending.length) lines.push(`* not honoured yet: ${p.pending.join('; ')}`);
  if (p.overrides?.length) lines.push(`overrides that would make it ${p.fits ? 'run' : 'fit'}: ${p.overrides.map(overrideFlag).join('; ')}`);
  for (const n of p.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/** An override as a command-line flag. */
export function overrideFlag(o: string): string {
  return o.startsWith('--')
    ? o
    : o
        .split(' ')
        .filter((x) => x.includes('='))
        .map((x) => `--set ${x}`)
        .join(' ') + (o.includes('(') ? ` ${o.slice(o.indexOf('('))}` : '');
}

/** Why a run cannot go ahead (its plan does not fit, or needs chunk sizes the trainer does not run yet), with the
 *  overrides that would let it, for a KitError of `train` or `reproduce`; null when it can. */
export function planRefusal(p: RunPlan): string | null {
  if (p.runnable) return null;
  const what = p.fits
    ? `the plan for ${p.device.name} fits only with chunk sizes the trainer does not run yet: ${p.pending.join('; ')}`
    : `the plan says this run does not fit ${p.device.name}: ${p.reason}`;
  const fix = p.overrides?.length
    ? `. Overrides that would make it ${p.fits ? 'run' : 'fit'}: ${p.overrides.map(overrideFlag).join('; ')}`
    : '. No override found that makes it fit';
  return `${what}${fix} (\`introllm plan\` with the same flags shows the whole plan)`;
}
