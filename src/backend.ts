// Picks, starts and reports the TensorFlow.js backend.
//
// Order when nothing is asked for: `tensorflow` (tfjs-node-gpu, then tfjs-node: optional dependencies that need
// libtensorflow), `webgpu` (Dawn through the optional `webgpu` package, only on a hardware adapter), `wasm` (the
// default on CPU), `cpu` (pure JS). A backend that is asked for (argument or INTROLLM_BACKEND) and cannot start is an
// error with the reason: tf.setBackend() on its own returns false and silently stays on the previous backend.
//
// The wasm backend lacks the UnsortedSegmentSum kernel, which the gradient of tf.gather (the embedding lookup) needs;
// registerWasmExtras() adds a plain implementation so that training works on wasm.
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { GemmRoute, gemmRoute, installKitGemm, installKitGemmCpu, setGemmRoute } from './lm/kernels/gemm';
import { gemmThreads, setGemmThreads } from './lm/kernels/gemm-threads';
import { installFusedKernels } from './lm/kernels/fused';
import { loadHfConfig } from './lm/config';
import { LoadedModel, loadModel } from './lm/load';
import { fitWasm, modelSizes, RunPlan } from './plan/run-plan';
import { KitError } from './errors';
import { installDawnTickHook, patchWebgpuBackend, setWebgpuPoolBytes } from './webgpu-node';

export const BACKENDS = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendInfo {
  name: BackendName;
  /** Human-readable details: which package, SIMD/threads, the GPU adapter. */
  detail: string;
}

let current: BackendInfo | null = null;
/** Whether `current` was picked automatically (and may therefore be changed for a model that does not fit it). */
let autoPicked = false;
let logLine: (line: string) => void = (line) => process.stderr.write(line + '\n');

/** The backend started by initBackend, or null before it ran. */
export function currentBackend(): BackendInfo | null {
  return current;
}

async function activate(name: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    throw new Error(`tf.setBackend('${name}') threw: ${(e as Error).message}`);
  }
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`tf.setBackend('${name}') failed (TF.js stayed on '${tf.getBackend()}'); see the warning above for the cause`);
  }
}

function requireOptional(pkg: string): unknown {
  try {
    return require(pkg);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    throw new Error(`package '${pkg}' could not be loaded (${msg})`);
  }
}

async function startTensorflow(): Promise<string> {
  const tried: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      requireOptional(pkg);
      await activate('tensorflow');
      return pkg;
    } catch (e) {
      tried.push((e as Error).message);
    }
  }
  throw new Error(
    `${tried.join('; ')}. These optional packages download libtensorflow when installed and need network ` +
      `access to its host (the GPU build also needs CUDA 11.2 + cuDNN 8.1)`,
  );
}

// The webgpu backend runs on Dawn through the optional `webgpu` package (a prebuilt dawn.node). Dawn needs a Vulkan
// driver: the GPU's (NVIDIA/AMD/Intel) or, on a machine without a GPU, Mesa's lavapipe >= 23 (scripts/fetch-lavapipe.sh;
// Dawn reads VK_ICD_FILENAMES / LD_LIBRARY_PATH when the process starts). Auto mode takes only a hardware adapter; an
// explicit request also takes a software one. src/webgpu-node.ts patches tfjs-backend-webgpu for Node: synchronous
// reads (its own need OffscreenCanvas), AddN over many inputs, validation errors as exceptions, a bounded buffer pool
// and reused bind groups.
async function startWebgpu(requireHardware: boolean): Promise<string> {
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    // Auto mode on a machine without a Vulkan loader: say so without starting Dawn (which would print a warning).
    if (requireHardware && !vulkanLoaderFound()) throw new Error('no Vulkan loader (libvulkan.so.1) on this machine');
    const dawn = requireOptional('webgpu') as { create: (flags: string[]) => unknown; globals: object };
    installDawnTickHook(); // before Dawn schedules any work
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([]);
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu }, configurable: true, writable: true });
  }
  type AdapterInfo = { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  const gpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<unknown> } } }).navigator.gpu;
  const adapter = (await gpu.requestAdapter()) as { info?: AdapterInfo; isFallbackAdapter?: boolean } | null;
  if (!adapter) {
    throw new Error(
      'no WebGPU adapter found (Dawn needs a Vulkan driver and loader: an NVIDIA/AMD/Intel driver with libvulkan1, ' +
        'or Mesa lavapipe >= 23: run scripts/fetch-lavapipe.sh, then start node with vendor/lavapipe/env.sh sourced)',
    );
  }
  // GPUAdapterInfo's fields are getters on its prototype: read them one by one.
  const info: AdapterInfo = adapter.info ?? {};
  const desc = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  const software = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader|software/i.test(desc);
  if (requireHardware && software) throw new Error(`only a software adapter is available (${desc})`);
  requireOptional('@tensorflow/tfjs-backend-webgpu');
  await activate('webgpu');
  patchWebgpuBackend();
  return desc;
}

/** Linux: whether libvulkan.so.1 is in LD_LIBRARY_PATH, the ld.so cache or a standard folder. Elsewhere: true. */
function vulkanLoaderFound(): boolean {
  if (process.platform !== 'linux') return true;
  const fs = require('node:fs') as typeof import('node:fs');
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  if (dirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`))) return true;
  try {
    return fs.readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

async function startWasm(): Promise<string> {
  requireOptional('@tensorflow/tfjs-backend-wasm');
  await activate('wasm');
  registerWasmExtras();
  // The kit's SIMD matMul and fused kernels (src/lm/kernels/) need the SIMD build; without it tfjs's kernels run
  // everywhere.
  if (tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) {
    installKitGemm();
    installFusedKernels();
  }
  return wasmDetail();
}

/** The wasm backend's details, with the matMul route in force. */
function wasmDetail(): string {
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  return `simd ${simd ? 'on' : 'off'}, ${threads ? 'multi-threaded' : 'one thread'}, matMul ${simd ? gemmRoute() : 'tfjs'}${simd ? onThreads() : ''}`;
}

/** ', on N threads' when the kit's matMul runs on more than one thread. */
function onThreads(): string {
  return gemmThreads() > 1 ? ` on ${gemmThreads()} threads` : '';
}

/**
 * Runs the kit's matMul on `threads` threads (config key device.threads, applied from the run's plan; bench
 * --gemm-threads): on wasm with SIMD and on cpu, where the kit's kernel runs; elsewhere nothing. 'auto' = this
 * machine's cores. Workers that cannot start leave it on one thread, said in one line.
 */
export function setMatMulThreads(threads: number | 'auto'): void {
  if (!current) return;
  const kit = (current.name === 'wasm' && tf.getBackend() === 'wasm' && tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) || current.name === 'cpu';
  if (!kit) return;
  setGemmThreads(threads === 'auto' ? Math.max(1, os.cpus().length) : threads, logLine);
  current = { name: current.name, detail: current.name === 'wasm' ? wasmDetail() : cpuDetail() };
}

/** Puts the kit's matMul in front of the cpu backend's (src/lm/kernels/gemm.ts; off with route 'tfjs', config key
 *  device.gemm); its details. */
function startCpuMatMul(): string {
  installKitGemmCpu();
  return cpuDetail();
}

function cpuDetail(): string {
  return `pure JavaScript, matMul ${gemmRoute() === 'tfjs' ? 'tfjs' : `kit (wasm SIMD)${onThreads()}`}`;
}

async function start(name: BackendName, auto: boolean): Promise<string> {
  switch (name) {
    case 'tensorflow':
      return startTensorflow();
    case 'webgpu':
      return startWebgpu(auto);
    case 'wasm':
      return startWasm();
    case 'cpu':
      await activate('cpu');
      return startCpuMatMul();
  }
}

/**
 * Starts a backend. `requested` (else env INTROLLM_BACKEND) is one of BACKENDS or 'auto'/undefined.
 * Calling again with the same request returns the running backend; a different explicit request switches.
 */
export async function initBackend(requested?: string, opts: { log?: (line: string) => void } = {}): Promise<BackendInfo> {
  const want = requested ?? process.env.INTROLLM_BACKEND ?? 'auto';
  if (want !== 'auto' && !(BACKENDS as readonly string[]).includes(want)) {
    throw new KitError(`unknown backend '${want}'; valid: auto, ${BACKENDS.join(', ')}`);
  }
  if (current && (want === 'auto' || want === current.name)) return current;
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  logLine = log;
  autoPicked = want === 'auto';
  // PROD silences TF.js's console banners (e.g. the cpu backend's advice to install tfjs-node); the kit reports the
  // backend itself, once.
  tf.env().set('PROD', true);
  if (want !== 'auto') {
    try {
      current = { name: want as BackendName, detail: await start(want as BackendName, false) };
    } catch (e) {
      throw new KitError(`backend '${want}' was requested but cannot start: ${(e as Error).message}`);
    }
  } else {
    const failures: string[] = [];
    for (const name of BACKENDS) {
      try {
        current = { name, detail: await start(name, true) };
        break;
      } catch (e) {
        failures.push(`${name}: ${(e as Error).message}`);
      }
    }
    if (!current) throw new KitError(`no TF.js backend could start:\n  ${failures.join('\n  ')}`);
  }
  log(`introllm: TF.js backend ${current.name} (${current.detail})`);
  return current;
}

let wasmExtrasRegistered = false;

/** Registers kernels the wasm backend lacks and training needs (UnsortedSegmentSum: the gradient of gather). */
export function registerWasmExtras(): void {
  if (wasmExtrasRegistered) return;
  wasmExtrasRegistered = true;
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSumWasm as unknown as tf.KernelFunc });
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

// out[s, ...] = Σ_{i : ids[i] = s} x[i, ...] for segment ids of any rank (they index the leading dims of x);
// ids outside [0, numSegments) are dropped, as in TensorFlow.
function unsortedSegmentSumWasm(args: {
  inputs: { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  backend: WasmBackendLike;
  attrs: { numSegments: number };
}): tf.TensorInfo {
  const { x, segmentIds } = args.inputs;
  const { numSegments } = args.attrs;
  if (x.dtype !== 'float32') throw new Error(`UnsortedSegmentSum (wasm, added by introllm): only float32 is supported, got ${x.dtype}`);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = args.backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views are taken after makeOutput: growing the wasm heap detaches earlier views.
  const o = args.backend.typedArrayFromHeap(out) as Float32Array;
  const xv = args.backend.typedArrayFromHeap(x) as Float32Array;
  const ids = args.backend.typedArrayFromHeap(segmentIds) as Int32Array;
  o.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) o[dst + j] += xv[src + j];
  }
  return out;
}

// The heap arithmetic and the wasm decision are the plan's (src/plan/run-plan.ts); re-exported for their users.
export { ThetaState, WASM_HEAP_BYTES, WASM_WORK_BYTES, wasmHeapNeeded } from './plan/run-plan';

export interface BackendFit {
  /** The backend the model will run on. */
  backend: BackendInfo | null;
  /** Whether θ's gradients and Adam's moments go to host memory (only when the run trains θ). */
  thetaOnHost: boolean;
}

/** Whether the running backend was picked automatically (the plan may then move wasm to cpu). */
export function backendAutoPicked(): boolean {
  return autoPicked;
}

/** Moves the running wasm backend to cpu (pure JavaScript, no heap limit), saying why. */
function switchToCpu(why: string): void {
  // tf.setBackend is async only for backends whose start-up is; the cpu backend's is not, so the switch happens now.
  void tf.setBackend('cpu');
  if (tf.getBackend() !== 'cpu')
    throw new KitError(`${why}, and switching to the cpu backend failed (TF.js stayed on '${tf.getBackend()}'); pass --backend cpu`);
  current = { name: 'cpu', detail: `${startCpuMatMul()}; chosen instead of wasm because ${why}` };
}

/**
 * Applies a run's plan (src/plan/run-plan.ts) to the running backend before any weight is created: the backend it
 * chose (wasm → cpu when the heap cannot hold the model), the matMul route (device.gemm or the plan's choice) and its
 * threads (device.threads), the webgpu buffer pool (device.webgpuPoolMB). Decides nothing itself; each change from the
 * default is said once.
 */
export function applyRunPlan(plan: {
  backend: BackendName;
  gemm: GemmRoute | null;
  webgpu_pool_bytes: number | null;
  notes: string[];
  threads?: number | null;
}): BackendInfo | null {
  if (!current) return current;
  if (current.name === 'wasm' && tf.getBackend() === 'wasm') {
    if (plan.backend === 'cpu') {
      const why =
        plan.notes.find((n) => n.startsWith('TF.js backend cpu instead of wasm: '))?.slice('TF.js backend cpu instead of wasm: '.length) ??
        'the plan chose the cpu backend';
      switchToCpu(why);
      logLine(`introllm: TF.js backend cpu instead of wasm: ${why}`);
    } else if (plan.gemm && plan.gemm !== gemmRoute()) {
      setGemmRoute(plan.gemm);
      current = { name: 'wasm', detail: wasmDetail() };
      const why = plan.notes.find((n) => n.startsWith("matMul route 'all'"));
      if (why) logLine(`introllm: ${why}`);
    }
    for (const n of plan.notes) if (n.startsWith('warning: ')) logLine(`introllm: ${n}`);
  } else if (current.name === 'cpu' && plan.gemm && plan.gemm !== gemmRoute()) {
    setGemmRoute(plan.gemm);
  }
  if (current.name === 'webgpu' && plan.webgpu_pool_bytes !== null) setWebgpuPoolBytes(plan.webgpu_pool_bytes);
  if (plan.threads != null) setMatMulThreads(plan.threads);
  return current;
}

/**
 * For callers without a run plan (bench, and the loaders of evaluation-only commands): before a model's weights are
 * created, on wasm, the plan's heap decision (fitWasm in src/plan/run-plan.ts: the matMul route, where θ's state
 * goes, or cpu when nothing fits an automatically picked wasm), applied and said once on stderr. `theta`: whether the
 * weights train, 'device' keeping their state on the backend, 'auto' letting the decision choose.
 */
export function fitBackendToModel(weightBytes: number, what: string, o: { theta?: 'none' | 'device' | 'auto'; largestBytes?: number } = {}): BackendFit {
  const theta = o.theta ?? 'none';
  if (!current || current.name !== 'wasm' || tf.getBackend() !== 'wasm') return { backend: current, thetaOnHost: false };
  const fit = fitWasm({
    weightBytes,
    largestBytes: o.largestBytes ?? 0,
    trainsTheta: theta !== 'none',
    thetaAdam: theta === 'device' ? 'device' : 'auto',
    gemm: gemmRoute() === 'batched' ? 'auto' : gemmRoute(),
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    autoPicked,
    what,
  });
  if (fit.backend === 'cpu') {
    const why = fit.lines[0].slice('TF.js backend cpu instead of wasm: '.length);
    switchToCpu(why);
    logLine(`introllm: ${fit.lines[0]}`);
    return { backend: current, thetaOnHost: false };
  }
  if (fit.gemm !== gemmRoute()) {
    setGemmRoute(fit.gemm);
    current = { name: 'wasm', detail: wasmDetail() };
  }
  for (const l of fit.lines) logLine(`introllm: ${l}`);
  return { backend: current, thetaOnHost: fit.theta === 'host' };
}

/** A model loaded onto the backend readied for it, with where θ's optimiser state lives. */
export interface PlacedModel extends LoadedModel {
  /** θ's gradients and Adam's moments belong in host memory (the backend holds the weights only once). */
  thetaOnHost: boolean;
}

/**
 * Readies the running backend for the model in `dir` before any of its weights is created, then loads it
 * (src/lm/load.ts, which decides nothing about the backend). With a run's `plan` (src/plan/run-plan.ts) the backend,
 * matMul route and where θ's optimiser state lives are the plan's (applyRunPlan); without one (evaluation-only
 * commands, bench) the plan's heap decision for this model alone (fitBackendToModel), with `theta` as there.
 */
export function loadModelOnBackend(
  dir: string,
  opts: { trainable?: boolean; randomInit?: number; theta?: 'none' | 'device' | 'auto'; plan?: RunPlan } = {},
): PlacedModel {
  const config = loadHfConfig(dir);
  let thetaOnHost: boolean;
  if (opts.plan) {
    applyRunPlan(opts.plan);
    thetaOnHost = opts.plan.theta_state === 'host';
  } else {
    const sizes = modelSizes(config);
    thetaOnHost = fitBackendToModel(sizes.weightBytes, dir, { theta: opts.theta, largestBytes: sizes.largestBytes }).thetaOnHost;
  }
  return { ...loadModel(dir, { trainable: opts.trainable, randomInit: opts.randomInit, config }), thetaOnHost };
}
