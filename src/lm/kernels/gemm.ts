// The kit's own matrix product (docs/benchmarks.md#the-kits-matmul-kernel), a BatchMatMul kernel in front of tfjs's on
// the wasm and cpu backends: it takes the cases where tfjs's is slow or costly and hands every other case back to
// tfjs's own kernel.
//
// Why: tfjs-backend-wasm 4.22 runs a product with a batch > 1 (attention's q·kᵀ and P·v, and their gradients) in a
// generic scalar loop at 0.7–1.1 GMAC/s, while 2-D products go to XNNPACK, which keeps a packed copy of every weight
// matrix it multiplies (a 0.5B model's 2 GB of weights then need 4 GB of the 4 GiB heap). The kit's kernel
// (gemm-wat.ts: f32x4 register blocks, bit-identical to tfjs's generic loop) reads the matrices where they lie.
//
// Routes (config key device.gemm, applied from the run's plan with setGemmRoute):
//   'batched' (default): products with a batch > 1, whose results are bit-identical to tfjs's.
//   'all': every float32 product without transposeB, 2-D ones too: no packed copies, so a model whose weights fit
//          the heap once but not twice runs on wasm (fitBackendToModel picks it). Numerically close to XNNPACK,
//          not identical.
//   'tfjs': never (tfjs's kernels everywhere; for comparisons).
// On the cpu backend (installKitGemmCpu) the kernel takes every float32 product without transposeB, on copies of
// the operands in a memory of its own, unless the route is 'tfjs'.
import * as tf from '@tensorflow/tfjs';
import { KitError } from '../../errors';
import { GEMM_WASM_BASE64 } from './gemm-binary';

export const GEMM_ROUTES = ['batched', 'all', 'tfjs'] as const;
export type GemmRoute = (typeof GEMM_ROUTES)[number];

type GemmFn = (a: number, b: number, c: number, batch: number, M: number, K: number, N: number, lda: number, ak: number, sa: number, sb: number) => void;
type GemvFn = (a: number, b: number, c: number, s: number, M: number, K: number, N: number, lda: number, ak: number) => void;
interface Kernels { gemm: GemmFn; gemv: GemvFn }

interface WasmBackend {
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
  dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

interface MatMulArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: WasmBackend;
  attrs: { transposeA: boolean; transposeB: boolean };
}

let route: GemmRoute = 'batched';
let kernels: Kernels | null = null;
let gemmMemory: WebAssembly.Memory | null = null;
let calls = 0;
let streamCalls = 0;
/** The fewest columns for which a 2-D product of at most 4 rows streams B row by row (see gemm-wat.ts, $stream_R). */
export const STREAM_MIN_N = 64;
let streamEnabled = true;

/** The route in force. */
export function gemmRoute(): GemmRoute {
  return route;
}

/** How many products the kit's kernel has computed (tests check that a path really went through it). */
export function gemmCalls(): number {
  return calls;
}

/** How many of them went through the row-streaming kernel (products of ≤ 4 rows). */
export function gemmStreamCalls(): number {
  return streamCalls;
}

/** Turns the row-streaming kernel off (tests compare it with the register blocks) or back on. */
export function setGemmStream(on: boolean): void {
  streamEnabled = on;
}

const isRoute = (r: string): r is GemmRoute => (GEMM_ROUTES as readonly string[]).includes(r);

/** Sets the route (see the file's header). */
export function setGemmRoute(r: GemmRoute): void {
  if (!isRoute(r)) throw new KitError(`unknown matMul route '${r}'; valid: ${GEMM_ROUTES.join(', ')}`);
  route = r;
}


function memoryOf(backend: WasmBackend): WebAssembly.Memory {
  const m = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
  if (!(m instanceof WebAssembly.Memory)) throw new Error('the wasm backend does not expose its memory (tfjs-backend-wasm changed?)');
  return m;
}

/** The kernels, instantiated on `memory` (every pointer they take is a byte offset into it). */
function instantiate(memory: WebAssembly.Memory): Kernels {
  const module = new WebAssembly.Module(Buffer.from(GEMM_WASM_BASE64, 'base64'));
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return { gemm: instance.exports.gemm as GemmFn, gemv: instance.exports.gemv as GemvFn };
}

function kernelsFor(backend: WasmBackend): Kernels {
  const memory = memoryOf(backend);
  if (kernels && gemmMemory === memory) return kernels;
  kernels = instantiate(memory);
  gemmMemory = memory;
  return kernels;
}

const prod = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
const sameShape = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => v === y[i]);

/** A product the kit's kernel takes: its sizes and A's strides (bytes). */
interface Plan {
  outShape: number[];
  batch: number;
  M: number;
  K: number;
  N: number;
  lda: number;
  ak: number;
  broadcastB: boolean;
  stream: boolean;
}

/**
 * The kit's plan for a product when it is one the kernel takes under `r`, else null. Taken: float32, no transposeB,
 * rank ≥ 2 with B's batch dims equal to A's or absent (B broadcast), and — on 'batched' — a batch > 1.
 */
function planFor(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, r: GemmRoute): Plan | null {
  if (r === 'tfjs') return null;
  if (transposeB || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const batchDims = a.shape.slice(0, -2);
  const bBatchDims = b.shape.slice(0, -2);
  const broadcastB = bBatchDims.length === 0;
  if (!broadcastB && !sameShape(batchDims, bBatchDims)) return null;
  const batch = prod(batchDims);
  if (r === 'batched' && (batch <= 1 || broadcastB)) return null;
  const [rows, cols] = a.shape.slice(-2);
  const M = transposeA ? cols : rows;
  const K = transposeA ? rows : cols;
  const [Kb, N] = b.shape.slice(-2);
  if (Kb !== K) return null; // tfjs's kernel reports the mismatch
  // A(m, k) at m·lda + k·ak bytes: [M, K] row-major, or [K, M] for transposeA.
  const stream = streamEnabled && batch === 1 && M <= 4 && N % 4 === 0 && N >= STREAM_MIN_N;
  return { outShape: [...batchDims, M, N], batch, M, K, N, lda: transposeA ? 4 : 4 * K, ak: transposeA ? 4 * M : 4, broadcastB, stream };
}

/** Runs a plan on operands at byte offsets a, b, c (and scratch s for M·N floats when it streams) of the kernels' memory. */
function runPlan(k: Kernels, p: Plan, a: number, b: number, c: number, s: number): void {
  if (p.stream) {
    k.gemv(a, b, c, s, p.M, p.K, p.N, p.lda, p.ak);
    streamCalls++;
  } else {
    k.gemm(a, b, c, p.batch, p.M, p.K, p.N, p.lda, p.ak, 4 * p.M * p.K, p.broadcastB ? 0 : 4 * p.K * p.N);
  }
  calls++;
}

/** wasm: on the backend's own memory, in place. */
function kitMatMul(args: MatMulArgs): tf.TensorInfo | null {
  const { a, b } = args.inputs;
  const p = planFor(a, b, args.attrs.transposeA, args.attrs.transposeB, route);
  if (!p) return null;
  const be = args.backend;
  const out = be.makeOutput(p.outShape, 'float32');
  const scratch = p.stream ? be.makeOutput([p.M * p.N], 'float32') : null;
  const ptr = (t: tf.TensorInfo) => be.dataIdMap.get(t.dataId)!.memoryOffset;
  // Kernels after every makeOutput: the heap may have grown (the module sees the same memory).
  runPlan(kernelsFor(be), p, ptr(a), ptr(b), ptr(out), scratch ? ptr(scratch) : 0);
  if (scratch) be.disposeData(scratch.dataId, true);
  return out;
}

// ---- the cpu backend ----
// Its tensors are JavaScript arrays, so the operands are copied into a memory of the kit's own (grown as needed, up
// to wasm's 4 GiB) and the result copied out: for a product of many rows the copies are a small part of the work;
// decoding (a few rows) pays about as much again as the product. Measured 4–33× the cpu backend's JavaScript matMul
// (scripts/bench-batched-matmul.ts --backend cpu).

interface CpuBackend {
  data: { get(id: unknown): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

let cpuMemory: WebAssembly.Memory | null = null;
let cpuKernels: Kernels | null = null;

function cpuKernelsFor(bytes: number): { k: Kernels; heap: Float32Array } {
  const pages = Math.ceil(bytes / 65536) + 1;
  if (pages > 65536) throw new KitError(`a matMul of ${(bytes / 2 ** 30).toFixed(2)} GiB of operands exceeds the 4 GiB of the kit's kernel memory`);
  if (!cpuMemory) {
    cpuMemory = new WebAssembly.Memory({ initial: pages, maximum: 65536 });
    cpuKernels = instantiate(cpuMemory);
  } else if (cpuMemory.buffer.byteLength < pages * 65536) {
    cpuMemory.grow(pages - cpuMemory.buffer.byteLength / 65536);
  }
  return { k: cpuKernels!, heap: new Float32Array(cpuMemory.buffer) };
}

function values(be: CpuBackend, t: tf.TensorInfo): Float32Array | null {
  const v = be.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : null;
}

function kitMatMulCpu(args: { inputs: { a: tf.TensorInfo; b: tf.TensorInfo }; backend: CpuBackend; attrs: { transposeA: boolean; transposeB: boolean } }): tf.TensorInfo | null {
  const { a, b } = args.inputs;
  // On cpu every product is the kit's unless the route is 'tfjs': there is no XNNPACK to prefer for 2-D ones.
  const p = planFor(a, b, args.attrs.transposeA, args.attrs.transposeB, route === 'tfjs' ? 'tfjs' : 'all');
  if (!p) return null;
  const av = values(args.backend, a);
  const bv = values(args.backend, b);
  if (!av || !bv) return null;
  const cn = prod(p.outShape);
  const sn = p.stream ? p.M * p.N : 0;
  const align = (n: number) => Math.ceil(n / 4) * 4; // offsets in floats, 16-byte aligned
  const offA = 0;
  const offB = align(av.length);
  const offC = offB + align(bv.length);
  const offS = offC + align(cn);
  const { k, heap } = cpuKernelsFor(4 * (offS + sn));
  heap.set(av, offA);
  heap.set(bv, offB);
  runPlan(k, p, 4 * offA, 4 * offB, 4 * offC, 4 * offS);
  return args.backend.makeTensorInfo(p.outShape, 'float32', heap.slice(offC, offC + cn));
}

/** The backends whose BatchMatMul the kit already wraps. */
const wrapped = new Set<string>();

/** Puts `take` in front of `backendName`'s BatchMatMul (once): the cases it returns null for go to tfjs's kernel. */
function wrapBatchMatMul<A>(backendName: string, take: (args: A) => tf.TensorInfo | null): void {
  if (wrapped.has(backendName)) return;
  const cfg = tf.getKernel('BatchMatMul', backendName);
  if (!cfg) throw new Error(`the ${backendName} backend has no BatchMatMul kernel to wrap`);
  const orig = cfg.kernelFunc;
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({
    ...cfg,
    kernelFunc: ((args: A) => take(args) ?? orig(args as unknown as Parameters<tf.KernelFunc>[0])) as unknown as tf.KernelFunc,
  });
  wrapped.add(backendName);
}

/** Puts the kit's BatchMatMul in front of the cpu backend's (once); route 'tfjs' turns it off. */
export function installKitGemmCpu(): void {
  if (wrapped.has('cpu')) return;
  wrapBatchMatMul('cpu', kitMatMulCpu);
}

/**
 * Puts the kit's BatchMatMul in front of the wasm backend's (once; the route can change afterwards). Cases it does
 * not take go to tfjs's kernel unchanged.
 */
export function installKitGemm(r: GemmRoute = gemmRoute()): void {
  setGemmRoute(r);
  wrapBatchMatMul('wasm', kitMatMul);
}
