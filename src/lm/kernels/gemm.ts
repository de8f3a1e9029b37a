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
//
// Threads (config key device.threads, setGemmThreads in gemm-threads.ts): a product of at least THREAD_MIN_MACS
// multiply-adds is split by its output among the threads, bit-identical to one thread. On wasm the backend's heap is
// not shared memory, so the workers' parts of A and B are copied into the pool's shared memory and their part of C
// copied back (the calling thread computes its part in place); a product whose copies would cost too much beside its
// arithmetic (fewer than THREAD_MACS_PER_COPY multiply-adds per copied float: decoding's products, whose B is the KV
// cache or a weight matrix, and the attention products of heads of 16, measured slower split) stays on one thread.
// On cpu the operands are copied anyway: into the shared memory. On route 'batched' the 2-D products that tfjs gives
// XNNPACK are split too, by rows of A, when each thread gets at least XNN_SPLIT_MIN_ROWS of them (a training step's or
// an update's projections; not decoding's few rows, nor a weight gradient's xᵀ · dy): the workers run XNNPACK in
// their own instance of tfjs-backend-wasm's module, bit-identical to one thread (xnnOnThreads below).
import * as tf from '@tensorflow/tfjs';
import { KitError } from '../../errors';
import { enableXnnWorkers, gemmModule, GemmJob, runJobs, runXnnJobs, threadMemory, XnnJob, xnnThreads } from './gemm-threads';

export const GEMM_ROUTES = ['batched', 'all', 'tfjs'] as const;
export type GemmRoute = (typeof GEMM_ROUTES)[number];

type GemmFn = (a: number, b: number, c: number, batch: number, M: number, K: number, N: number, lda: number, ak: number, sa: number, sb: number) => void;
type GemvFn = (a: number, b: number, c: number, s: number, M: number, K: number, N: number, lda: number, ak: number) => void;
interface Kernels {
  gemm: GemmFn;
  gemv: GemvFn;
}

interface WasmBackend {
  wasm: {
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
    cwrap?: (name: string, ret: null, args: string[]) => (...a: unknown[]) => void;
    tfjs?: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(id: unknown): { memoryOffset: number; id?: number } | undefined };
  dataIdNextNumber?: number;
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
let threadedCalls = 0;
let xnnSplitCalls = 0;
/**
 * The fewest rows of A per thread, and multiply-adds in all, for which a 2-D XNNPACK product is split: each worker
 * packs B again, and waking it and copying its rows and theirs cost more than they save below about 20M
 * multiply-adds (timed per product in a tiny-preset RL update: [3136, 48] · [48, 96] and [3136, 56] · [56, 96],
 * 14–17M, were slower split, [3164, 96] · [96, 96], 29M, 1.3× faster, the MLP's 77M products 1.7×).
 */
export const XNN_SPLIT_MIN_ROWS = 256;
export const XNN_SPLIT_MIN_MACS = 24 << 20;
let xnnMinRows = XNN_SPLIT_MIN_ROWS;
let xnnMinMacs = XNN_SPLIT_MIN_MACS;
/** The fewest multiply-adds for which a product is split among threads (below it, waking the workers costs more). */
export const THREAD_MIN_MACS = 1 << 20;
/** On wasm: the fewest multiply-adds per float copied to and from the workers' shared memory for a split product. */
export const THREAD_MACS_PER_COPY = 32;
let threadMinMacs = THREAD_MIN_MACS;
let threadMacsPerCopy = THREAD_MACS_PER_COPY;
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

/** How many products were split among threads (tests check which shapes are). */
export function gemmThreadedCalls(): number {
  return threadedCalls;
}

/** How many 2-D products XNNPACK computed split among threads (tests check which shapes are). */
export function xnnSplitCount(): number {
  return xnnSplitCalls;
}

/**
 * Test hook: when a product is split among threads (no argument: THREAD_MIN_MACS, THREAD_MACS_PER_COPY,
 * XNN_SPLIT_MIN_ROWS and XNN_SPLIT_MIN_MACS).
 */
export function setGemmThreadLimits(o: { minMacs?: number; macsPerCopy?: number; xnnMinRows?: number; xnnMinMacs?: number } = {}): void {
  threadMinMacs = o.minMacs ?? THREAD_MIN_MACS;
  threadMacsPerCopy = o.macsPerCopy ?? THREAD_MACS_PER_COPY;
  xnnMinRows = o.xnnMinRows ?? XNN_SPLIT_MIN_ROWS;
  xnnMinMacs = o.xnnMinMacs ?? XNN_SPLIT_MIN_MACS;
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

/** The wasm backend's memory (its heap), which the kit's modules import. */
export function memoryOf(backend: { wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory } }): WebAssembly.Memory {
  const m = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
  if (!(m instanceof WebAssembly.Memory)) throw new Error('the wasm backend does not expose its memory (tfjs-backend-wasm changed?)');
  return m;
}

/** The kernels, instantiated on `memory` (every pointer they take is a byte offset into it). */
function instantiate(memory: WebAssembly.Memory): Kernels {
  const instance = new WebAssembly.Instance(gemmModule(), { env: { memory } });
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
  transposeA: boolean;
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
  return { outShape: [...batchDims, M, N], batch, M, K, N, lda: transposeA ? 4 : 4 * K, ak: transposeA ? 4 * M : 4, broadcastB, transposeA, stream };
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

/** wasm: on the backend's own memory, in place (the workers' parts on copies, see the file's header). */
function kitMatMul(args: MatMulArgs): tf.TensorInfo | null {
  const { a, b } = args.inputs;
  const p = planFor(a, b, args.attrs.transposeA, args.attrs.transposeB, route);
  if (!p) return route === 'batched' ? xnnOnThreads(args) : null;
  const be = args.backend;
  const out = be.makeOutput(p.outShape, 'float32');
  const scratch = p.stream ? be.makeOutput([p.M * p.N], 'float32') : null;
  const ptr = (t: tf.TensorInfo) => be.dataIdMap.get(t.dataId)!.memoryOffset;
  // Kernels after every makeOutput: the heap may have grown (the module sees the same memory).
  const k = kernelsFor(be);
  if (!runThreadedOnCopies(k, gemmMemory!, p, ptr(a), ptr(b), ptr(out))) runPlan(k, p, ptr(a), ptr(b), ptr(out), scratch ? ptr(scratch) : 0);
  if (scratch) be.disposeData(scratch.dataId, true);
  return out;
}

// ---- threads ----

/** One thread's share of the output: batch items [i0, i1), rows [m0, m1) of each. */
interface Part {
  i0: number;
  i1: number;
  m0: number;
  m1: number;
}

const macsOf = (p: Plan) => p.batch * p.M * p.K * p.N;

/**
 * The output of `p` split among up to `threads`: whole batch items when there are enough of them, else rows (in
 * multiples of 4, the kernel's row block) of every item. Each part is a set of whole output elements.
 */
function splitOutput(p: Plan, threads: number): Part[] {
  const parts: Part[] = [];
  if (p.batch >= threads) {
    for (let t = 0; t < threads; t++) {
      const i0 = Math.floor((p.batch * t) / threads);
      const i1 = Math.floor((p.batch * (t + 1)) / threads);
      if (i1 > i0) parts.push({ i0, i1, m0: 0, m1: p.M });
    }
  } else {
    const cut = (t: number) => (t === threads ? p.M : Math.min(p.M, 4 * Math.round((p.M * t) / threads / 4)));
    for (let t = 0; t < threads; t++) {
      const m0 = cut(t);
      const m1 = cut(t + 1);
      if (m1 > m0) parts.push({ i0: 0, i1: p.batch, m0, m1 });
    }
  }
  return parts;
}

/** The gemm calls of `part` on operands laid out whole at byte offsets a, b, c (as the plan says). */
function jobInPlace(p: Plan, part: Part, a: number, b: number, c: number): GemmJob {
  const sa = 4 * p.M * p.K;
  const sb = p.broadcastB ? 0 : 4 * p.K * p.N;
  const sc = 4 * p.M * p.N;
  const n = part.i1 - part.i0;
  if (part.m1 - part.m0 === p.M) {
    return { args: [a + part.i0 * sa, b + part.i0 * sb, c + part.i0 * sc, n, p.M, p.K, p.N, p.lda, p.ak, sa, sb], reps: 1, da: 0, db: 0, dc: 0 };
  }
  // A row range of each item: one call per item, the pointers stepping by the item strides.
  return {
    args: [a + part.i0 * sa + part.m0 * p.lda, b + part.i0 * sb, c + part.i0 * sc + part.m0 * 4 * p.N, 1, part.m1 - part.m0, p.K, p.N, p.lda, p.ak, 0, 0],
    reps: n,
    da: sa,
    db: sb,
    dc: sc,
  };
}

/**
 * wasm, threads > 1: the calling thread computes parts[0] in place on the heap; every other part's A rows and B
 * (items) are copied compactly into the pool's shared memory, computed there by a worker, and its C rows copied
 * back. False (nothing done) when the product stays on one thread.
 */
function runThreadedOnCopies(k: Kernels, heap: WebAssembly.Memory, p: Plan, a: number, b: number, c: number): boolean {
  if (p.stream || macsOf(p) < threadMinMacs) return false;
  const probe = threadMemory(0);
  if (!probe) return false;
  const parts = splitOutput(p, probe.threads);
  if (parts.length < 2) return false;
  const { K, N, M } = p;
  const align = (x: number) => Math.ceil(x / 4) * 4; // floats, 16-byte aligned
  let top = 0;
  let copied = 0;
  const sharedB = p.broadcastB ? top : -1;
  if (p.broadcastB) {
    top += align(K * N);
    copied += K * N;
  }
  const layout = parts.slice(1).map((part) => {
    const n = part.i1 - part.i0;
    const r = part.m1 - part.m0;
    const offA = top;
    top += align(n * r * K);
    const offB = p.broadcastB ? sharedB : top;
    if (!p.broadcastB) top += align(n * K * N);
    const offC = top;
    top += align(n * r * N);
    copied += n * r * K + (p.broadcastB ? 0 : n * K * N) + n * r * N;
    return { part, n, r, offA, offB, offC };
  });
  if (macsOf(p) < threadMacsPerCopy * copied) return false;
  const mem = threadMemory(4 * top);
  if (!mem) return false;
  const h = new Float32Array(heap.buffer);
  const sh = new Float32Array(mem.memory.buffer);
  const a4 = a / 4;
  const b4 = b / 4;
  const c4 = c / 4;
  if (p.broadcastB) sh.set(h.subarray(b4, b4 + K * N), sharedB);
  const jobs: GemmJob[] = [jobInPlace(p, parts[0], a, b, c)];
  for (const { part, n, r, offA, offB, offC } of layout) {
    if (!p.broadcastB) sh.set(h.subarray(b4 + part.i0 * K * N, b4 + part.i1 * K * N), offB);
    if (r === M) {
      sh.set(h.subarray(a4 + part.i0 * M * K, a4 + part.i1 * M * K), offA);
    } else {
      for (let i = part.i0; i < part.i1; i++) {
        const src = a4 + i * M * K;
        const dst = offA + (i - part.i0) * r * K;
        if (!p.transposeA) sh.set(h.subarray(src + part.m0 * K, src + part.m1 * K), dst);
        else for (let kk = 0; kk < K; kk++) sh.set(h.subarray(src + kk * M + part.m0, src + kk * M + part.m1), dst + kk * r);
      }
    }
    // The copy is A's rows m0..m1 of items i0..i1, compact: [n, r, K], or [n, K, r] for transposeA.
    jobs.push({
      args: [4 * offA, 4 * offB, 4 * offC, n, r, K, N, p.transposeA ? 4 : 4 * K, p.transposeA ? 4 * r : 4, 4 * r * K, p.broadcastB ? 0 : 4 * K * N],
      reps: 1,
      da: 0,
      db: 0,
      dc: 0,
    });
  }
  runJobs(k.gemm, jobs);
  for (const { part, r, offC } of layout) {
    if (r === M) h.set(sh.subarray(offC, offC + (part.i1 - part.i0) * M * N), c4 + part.i0 * M * N);
    else
      for (let i = part.i0; i < part.i1; i++) h.set(sh.subarray(offC + (i - part.i0) * r * N, offC + (i - part.i0 + 1) * r * N), c4 + i * M * N + part.m0 * N);
  }
  threadedCalls++;
  calls++;
  return true;
}

// ---- XNNPACK's 2-D products on the threads ----

type WasmMatMul = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  tA: number,
  tB: number,
  outId: number,
) => void;
let wasmMatMul: { backend: WasmBackend; fn: WasmMatMul } | null = null;

const shape3 = (r: number, k: number) => new Uint8Array(new Int32Array([1, r, k]).buffer);

/**
 * Route 'batched', a 2-D product tfjs gives XNNPACK (float32, no transposes, no batch): split by rows of A among the
 * threads when every thread gets at least xnnMinRows rows and the copies are small beside the arithmetic. The calling
 * thread runs tfjs-backend-wasm's own BatchMatMul on its rows in place (A's and C's rows registered as tensors of
 * their own, B as itself, so XNNPACK keeps its packed copy of B between calls); each worker runs the same function of
 * its own instance of the module on a copy of its rows of A and of B, and its rows of C are copied back. Each row of
 * C is computed by the same XNNPACK microkernel in the same order wherever it is, so the product equals tfjs's to the
 * bit (tests/lm/gemm-threads.test.ts). Null: not split (tfjs's kernel runs).
 */
function xnnOnThreads(args: MatMulArgs): tf.TensorInfo | null {
  const { a, b } = args.inputs;
  if (args.attrs.transposeA || args.attrs.transposeB || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  if (a.shape.length < 2 || b.shape.length < 2 || prod(a.shape.slice(0, -2)) !== 1 || prod(b.shape.slice(0, -2)) !== 1) return null;
  const [M, K] = a.shape.slice(-2);
  const [Kb, N] = b.shape.slice(-2);
  if (Kb !== K || M * K * N < xnnMinMacs) return null;
  const threads = Math.min(xnnThreads(), Math.floor(M / xnnMinRows));
  if (threads < 2) return null;
  const be = args.backend;
  const tfjs = be.wasm.tfjs;
  if (!tfjs || !be.wasm.cwrap || typeof be.dataIdNextNumber !== 'number') return null;
  const cut = (t: number) => Math.round((M * t) / threads);
  const align = (x: number) => Math.ceil(x / 4) * 4; // floats, 16-byte aligned
  // In the shared memory (floats): B once, then each worker's rows of A and of C.
  const jobs: (XnnJob & { m0: number })[] = [];
  let top = align(K * N);
  let copied = K * N;
  for (let t = 1; t < threads; t++) {
    const m0 = cut(t);
    const r = cut(t + 1) - m0;
    jobs.push({ m0, a: 4 * top, b: 0, c: 4 * (top + align(r * K)), M: r, K, N });
    top += align(r * K) + align(r * N);
    copied += r * K + r * N;
  }
  if (M * K * N < threadMacsPerCopy * copied) return null;
  const mem = threadMemory(4 * top);
  if (!mem) return null;
  if (wasmMatMul?.backend !== be) {
    wasmMatMul = {
      backend: be,
      fn: be.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as WasmMatMul,
    };
  }
  const mm = wasmMatMul.fn;
  const out = be.makeOutput([...a.shape.slice(0, -2), M, N], 'float32');
  const aInfo = be.dataIdMap.get(a.dataId)!;
  const bInfo = be.dataIdMap.get(b.dataId)!;
  const a4 = aInfo.memoryOffset / 4;
  const c4 = be.dataIdMap.get(out.dataId)!.memoryOffset / 4;
  const sh = new Float32Array(mem.memory.buffer);
  let h = new Float32Array(memoryOf(be).buffer);
  sh.set(h.subarray(bInfo.memoryOffset / 4, bInfo.memoryOffset / 4 + K * N), 0);
  for (const j of jobs) sh.set(h.subarray(a4 + j.m0 * K, a4 + (j.m0 + j.M) * K), j.a / 4);
  // Rows [m0, m1) in place: A's and C's rows registered as tensors of their own for the one call.
  const inPlace = (m0: number, m1: number) => {
    const ia = be.dataIdNextNumber!++;
    const ic = be.dataIdNextNumber!++;
    tfjs.registerTensor(ia, (m1 - m0) * K, aInfo.memoryOffset + 4 * m0 * K);
    tfjs.registerTensor(ic, (m1 - m0) * N, 4 * c4 + 4 * m0 * N);
    try {
      mm(ia, shape3(m1 - m0, K), 3, bInfo.id!, shape3(K, N), 3, 0, 0, ic);
    } finally {
      tfjs.disposeData(ia);
      tfjs.disposeData(ic);
    }
  };
  const failed = runXnnJobs(() => inPlace(0, cut(1)), jobs);
  // The heap may have grown during the calling thread's part (XNNPACK packs B on first use).
  h = new Float32Array(memoryOf(be).buffer);
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i];
    if (failed.includes(i)) inPlace(j.m0, j.m0 + j.M);
    else h.set(sh.subarray(j.c / 4, j.c / 4 + j.M * N), c4 + j.m0 * N);
  }
  xnnSplitCalls++;
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

function kitMatMulCpu(args: {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: CpuBackend;
  attrs: { transposeA: boolean; transposeB: boolean };
}): tf.TensorInfo | null {
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
  // Split among threads: the operands go straight into the workers' shared memory, every part computed in place.
  const shared = !p.stream && macsOf(p) >= threadMinMacs ? threadMemory(4 * offS) : null;
  const parts = shared ? splitOutput(p, shared.threads) : [];
  if (shared && parts.length > 1) {
    const heap = new Float32Array(shared.memory.buffer);
    heap.set(av, offA);
    heap.set(bv, offB);
    runJobs(
      shared.gemm,
      parts.map((part) => jobInPlace(p, part, 4 * offA, 4 * offB, 4 * offC)),
    );
    threadedCalls++;
    calls++;
    return args.backend.makeTensorInfo(p.outShape, 'float32', heap.slice(offC, offC + cn));
  }
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
  enableXnnWorkers();
  wrapBatchMatMul('wasm', kitMatMul);
}
