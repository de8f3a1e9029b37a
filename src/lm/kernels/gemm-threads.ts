// The worker threads of the kit's matMul (src/lm/kernels/gemm.ts): the same GEMM module instantiated in every worker
// on one shared WebAssembly.Memory. A product is split by its OUTPUT (batch items, or rows within them): each thread
// computes whole output elements, every element with exactly the operations and order of the one-thread kernel, so
// the results are bit-identical to it whatever the thread count (tests/lm/gemm-threads.test.ts).
//
// The kernel stays synchronous, as TF.js needs: the calling thread writes each worker's job into a control block of
// shared int32s, wakes it with Atomics.notify, computes its own part, then Atomics.waits until every worker is done.
// Idle workers block in Atomics.wait (no spinning). They are unref'd: they never keep the process alive, and a process
// that ends terminates them (terminate() interrupts Atomics.wait). Workers that cannot start leave the kernel on one
// thread, said in one line (and not tried again); a job that throws in a worker is recomputed on the calling thread and
// turns the pool off. The shared memory grows to the largest product split so far and is kept (up to 4 GiB).
//
// The workers also run tfjs-backend-wasm's own 2-D product (XNNPACK): each loads a second instance of that package's
// SIMD module (the same binary as the backend's), and a plain 2-D product of many rows is split by rows between the
// calling thread (XNNPACK in the backend's heap, in place) and the workers (XNNPACK in their own heaps, on copies):
// every output row is computed by the same microkernel in the same order, so the result is the one-thread product to
// the bit (see gemm.ts, xnnOnThreads). A worker whose module cannot load takes only the kit's own jobs.
//
// The thread count is decided once per run (config key device.threads, applied from the run's plan by
// applyRunPlan in src/backend.ts, or bench --gemm-threads) and handed to setGemmThreads.
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { GEMM_SHARED_WASM_BASE64, GEMM_WASM_BASE64 } from './gemm-binary';

/** The exported kernel: gemm(a, b, c, batch, M, K, N, lda, ak, sa, sb) (see gemm-wat.ts). */
export type GemmFn = (a: number, b: number, c: number, batch: number, M: number, K: number, N: number, lda: number, ak: number, sa: number, sb: number) => void;

/**
 * One thread's part of a product: `reps` calls of gemm with the 11 arguments `args`, the pointers a, b, c advanced by
 * da, db, dc bytes from one call to the next (a row range of each of several batch items is one part).
 */
export interface GemmJob {
  args: [number, number, number, number, number, number, number, number, number, number, number];
  reps: number;
  da: number;
  db: number;
  dc: number;
}

/** Runs a job with `gemm` (the calling thread's share, or a test's reference). */
export function runJob(gemm: GemmFn, j: GemmJob): void {
  const [a, b, c, ...rest] = j.args;
  for (let r = 0; r < j.reps; r++) {
    gemm((a + r * j.da) | 0, (b + r * j.db) | 0, (c + r * j.dc) | 0, ...(rest as [number, number, number, number, number, number, number, number]));
  }
}

// The control block of worker w: 32 int32s from w·32 (21 used).
const SLOT = 32;
const READY = 0; // 0 starting, 1 ready, -1 failed to start
const SEQ = 1; // the job number the worker is asked to run; -1 tells it to stop
const DONE = 2; // the job number it last finished
const FAILED = 3; // 1 after a job threw (the pool is then turned off)
const JOB = 4; // 11 arguments, reps, da, db, dc: 15 int32s (an XNNPACK job: offsets of A, B, C and M, K, N)
const KIND = 19; // 0 the kit's gemm, 1 XNNPACK's 2-D product
const XNN = 20; // the worker's XNNPACK: 0 not asked for, 1 ready, -1 could not load

// Plain JavaScript (runs in a worker_threads Worker with eval: true, so it needs no loader for TypeScript).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, slot, xnnModule, xnnFactory } = workerData;
const c = new Int32Array(control);
const base = slot * ${SLOT};
let gemm = null;
try {
  gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
} catch (e) {}
// tfjs-backend-wasm's module, instantiated synchronously from the compiled binary the calling thread sent (its
// Emscripten glue then finishes initialising before the factory returns; the glue looks for the global its bundle
// defines).
let xnn = null;
if (gemm && xnnModule && xnnFactory) {
  try {
    globalThis.WasmBackendModule = globalThis.WasmBackendModule || {};
    const mod = {
      print() {},
      printErr() {},
      instantiateWasm(imports, receive) {
        const instance = new WebAssembly.Instance(xnnModule, imports);
        receive(instance, xnnModule);
        return instance.exports;
      },
    };
    require(xnnFactory)(mod);
    mod.cwrap('init', null, [])();
    xnn = {
      mod,
      reg: mod.cwrap('register_tensor', null, ['number', 'number', 'number']),
      dispose: mod.cwrap('dispose_data', null, ['number']),
      mm: mod.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']),
      ptr: 0,
      cap: 0,
      id: 1,
    };
    Atomics.store(c, base + ${XNN}, 1);
  } catch (e) {
    Atomics.store(c, base + ${XNN}, -1);
  }
}
// Ready once both are settled, so that the calling thread sees the XNNPACK state with the ready one.
Atomics.store(c, base + ${READY}, gemm ? 1 : -1);
Atomics.notify(c, base + ${READY});
const shape3 = (r, k) => new Uint8Array(new Int32Array([1, r, k]).buffer);
// C [M, N] = A [M, K] · B [K, N] from and to the shared memory (byte offsets), by XNNPACK in this worker's heap.
function xnnJob(j) {
  const oa = c[j] >>> 2, ob = c[j + 1] >>> 2, oc = c[j + 2] >>> 2, M = c[j + 3], K = c[j + 4], N = c[j + 5];
  const bytes = 4 * (M * K + K * N + M * N);
  if (bytes > xnn.cap) {
    if (xnn.ptr) xnn.mod._free(xnn.ptr);
    xnn.ptr = xnn.mod._malloc(bytes) >>> 0;
    xnn.cap = xnn.ptr ? bytes : 0;
    if (!xnn.ptr) throw new Error('out of memory');
  }
  const pa = xnn.ptr, pb = pa + 4 * M * K, pc = pb + 4 * K * N;
  const s = new Float32Array(memory.buffer);
  xnn.mod.HEAPF32.set(s.subarray(oa, oa + M * K), pa >>> 2);
  xnn.mod.HEAPF32.set(s.subarray(ob, ob + K * N), pb >>> 2);
  const ia = xnn.id++, ib = xnn.id++, ic = xnn.id++;
  xnn.reg(ia, M * K, pa);
  xnn.reg(ib, K * N, pb);
  xnn.reg(ic, M * N, pc);
  try {
    xnn.mm(ia, shape3(M, K), 3, ib, shape3(K, N), 3, 0, 0, ic);
  } finally {
    // Forgetting B's id also drops the operator XNNPACK made for it (its packed copy of B).
    xnn.dispose(ia);
    xnn.dispose(ib);
    xnn.dispose(ic);
  }
  s.set(xnn.mod.HEAPF32.subarray(pc >>> 2, (pc >>> 2) + M * N), oc);
}
let seen = 0;
while (gemm) {
  Atomics.wait(c, base + ${SEQ}, seen);
  const seq = Atomics.load(c, base + ${SEQ});
  if (seq === seen) continue;
  if (seq < 0) break;
  seen = seq;
  try {
    const j = base + ${JOB};
    if (c[base + ${KIND}] === 1) xnnJob(j);
    else {
      const reps = c[j + 11], da = c[j + 12], db = c[j + 13], dc = c[j + 14];
      for (let r = 0; r < reps; r++) {
        gemm((c[j] + r * da) | 0, (c[j + 1] + r * db) | 0, (c[j + 2] + r * dc) | 0, c[j + 3], c[j + 4], c[j + 5], c[j + 6], c[j + 7], c[j + 8], c[j + 9], c[j + 10]);
      }
    }
  } catch (e) {
    Atomics.store(c, base + ${FAILED}, 1);
  }
  Atomics.store(c, base + ${DONE}, seq);
  Atomics.notify(c, base + ${DONE});
}
`;

/** How long the first product waits for the workers to start before running on one thread. */
const START_TIMEOUT_MS = 10_000;

interface Pool {
  /** Threads in all: the calling one and the workers. */
  threads: number;
  /** The memory the workers compute on (the cpu backend's operands live there too). */
  memory: WebAssembly.Memory;
  /** The calling thread's kernel on that memory. */
  gemm: GemmFn;
  control: Int32Array;
  workers: Worker[];
  started: boolean;
  seq: number;
}

let pool: Pool | null = null;
let wanted = 1;
/** Workers failed to start once: later requests stay on one thread without trying (and saying so) again. */
let failedToStart = false;
let note: (line: string) => void = (line) => process.stderr.write(line + '\n');
let compiled: WebAssembly.Module | null = null;
let compiledShared: WebAssembly.Module | null = null;

/** The GEMM module, compiled once per process. */
export function gemmModule(): WebAssembly.Module {
  return (compiled ??= new WebAssembly.Module(Buffer.from(GEMM_WASM_BASE64, 'base64')));
}

/** Its build on a shared memory (the same code; workers get it with their start data). */
function gemmSharedModule(): WebAssembly.Module {
  return (compiledShared ??= new WebAssembly.Module(Buffer.from(GEMM_SHARED_WASM_BASE64, 'base64')));
}

/** Whether workers load tfjs-backend-wasm's module for XNNPACK jobs (set by the wasm backend's installKitGemm). */
let xnnWanted = false;
let xnnLoaded: { module: WebAssembly.Module; factory: string } | null | undefined;

/** Workers started from now on also run tfjs-backend-wasm's 2-D products (XNNPACK); the wasm backend asks for it. */
export function enableXnnWorkers(): void {
  xnnWanted = true;
}

/** Test hook: the Emscripten glue the workers load (null = the package's). */
let xnnFactoryOverride: string | null = null;
export function setXnnFactoryForTests(file: string | null): void {
  xnnFactoryOverride = file;
  xnnLoaded = undefined;
}

/** tfjs-backend-wasm's SIMD module (the binary the backend runs) and its Emscripten glue; null where not found. */
function xnnFiles(): { module: WebAssembly.Module; factory: string } | null {
  if (xnnLoaded !== undefined) return xnnLoaded;
  try {
    const factory = xnnFactoryOverride ?? require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.js');
    const binary = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
    xnnLoaded = { module: new WebAssembly.Module(fs.readFileSync(binary)), factory };
  } catch {
    xnnLoaded = null;
  }
  return xnnLoaded;
}

/** Test hook: the source the workers run (null = the real one). */
let workerSourceOverride: string | null = null;
export function setGemmWorkerSourceForTests(src: string | null): void {
  workerSourceOverride = src;
  failedToStart = false;
}

/** The threads the kit's matMul uses now (1 = the calling thread only). */
export function gemmThreads(): number {
  return pool ? pool.threads : 1;
}

/** The thread count asked for by the last setGemmThreads (the pool may have fallen back to 1). */
export function gemmThreadsWanted(): number {
  return wanted;
}

/**
 * Runs the kit's matMul on `n` threads (the calling one and n - 1 workers, started now; they finish starting in the
 * background); 1 stops the workers. `log` receives the one line said when workers cannot start.
 */
export function setGemmThreads(n: number, log?: (line: string) => void): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`gemm threads must be a positive integer, got ${n}`);
  if (log) note = log;
  wanted = n;
  if (pool && pool.threads === n) return;
  stopGemmThreads();
  wanted = n;
  if (n === 1 || failedToStart) return;
  let memory: WebAssembly.Memory;
  let gemm: GemmFn;
  const workers: Worker[] = [];
  const control = new Int32Array(new SharedArrayBuffer(4 * SLOT * (n - 1)));
  const xnn = xnnWanted ? xnnFiles() : null;
  try {
    memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    gemm = new WebAssembly.Instance(gemmSharedModule(), { env: { memory } }).exports.gemm as GemmFn;
    for (let w = 0; w < n - 1; w++) {
      const worker = new Worker(workerSourceOverride ?? WORKER_SOURCE, {
        eval: true,
        workerData: { module: gemmSharedModule(), memory, control: control.buffer, slot: w, xnnModule: xnn?.module, xnnFactory: xnn?.factory },
      });
      worker.unref();
      // A worker that dies (e.g. out of memory) is noticed at its next job (it never reports done): mark it failed.
      worker.on('error', () => {
        Atomics.store(control, w * SLOT + FAILED, 1);
        Atomics.store(control, w * SLOT + READY, -1);
        Atomics.notify(control, w * SLOT + READY);
      });
      workers.push(worker);
    }
  } catch (e) {
    for (const w of workers) void w.terminate();
    failedToStart = true;
    fallBack(`could not start worker threads (${(e as Error).message})`);
    return;
  }
  pool = { threads: n, memory, gemm, control, workers, started: false, seq: 0 };
}

/** Stops the workers (the kit's matMul then runs on the calling thread). Safe to call at any time. */
export function stopGemmThreads(): void {
  const p = pool;
  pool = null;
  wanted = 1;
  if (!p) return;
  for (let w = 0; w < p.workers.length; w++) {
    Atomics.store(p.control, w * SLOT + SEQ, -1);
    Atomics.notify(p.control, w * SLOT + SEQ);
  }
  for (const w of p.workers) void w.terminate();
}

function fallBack(why: string): void {
  stopGemmThreads();
  note(`introllm: matMul on one thread: ${why}`);
}

/** The pool, once every worker has started; null (after the one-line note) when one cannot. */
function ready(): Pool | null {
  const p = pool;
  if (!p) return null;
  if (p.started) return p;
  const until = Date.now() + START_TIMEOUT_MS;
  for (let w = 0; w < p.workers.length; w++) {
    const at = w * SLOT + READY;
    while (Atomics.load(p.control, at) === 0 && Date.now() < until) Atomics.wait(p.control, at, 0, Math.max(1, until - Date.now()));
    const state = Atomics.load(p.control, at);
    if (state !== 1) {
      failedToStart = true;
      fallBack(state === 0 ? `a worker thread did not start within ${START_TIMEOUT_MS / 1000} s` : 'a worker thread could not instantiate the kernel');
      return null;
    }
  }
  p.started = true;
  return p;
}

/**
 * The pool's shared memory, at least `bytes` long, and the calling thread's kernel on it; null when the kit's matMul
 * runs on one thread (none asked for, or the workers could not start).
 */
export function threadMemory(bytes: number): { memory: WebAssembly.Memory; gemm: GemmFn; threads: number } | null {
  const p = ready();
  if (!p) return null;
  const pages = Math.ceil(bytes / 65536);
  const have = p.memory.buffer.byteLength / 65536;
  if (pages > 65536) return null;
  if (pages > have) p.memory.grow(pages - have);
  return { memory: p.memory, gemm: p.gemm, threads: p.threads };
}

/**
 * Hands worker w its job (`write(base)` fills its control block from `base`) for every w < writes.length, runs `own`
 * on the calling thread, and waits for them. Returns the workers whose job did not complete (a job that threw, or a
 * worker that died); rethrows what `own` threw once the workers are done.
 */
function dispatch(p: Pool, writes: ((base: number) => void)[], own: () => void): number[] {
  const seq = ++p.seq;
  writes.forEach((write, w) => {
    const base = w * SLOT;
    write(base);
    Atomics.store(p.control, base + SEQ, seq);
    Atomics.notify(p.control, base + SEQ);
  });
  let ownError: unknown = null;
  try {
    own();
  } catch (e) {
    ownError = e;
  }
  const failed: number[] = [];
  for (let w = 0; w < writes.length; w++) {
    const base = w * SLOT;
    for (;;) {
      const done = Atomics.load(p.control, base + DONE);
      if (done === seq) break;
      if (Atomics.load(p.control, base + READY) === -1) break;
      Atomics.wait(p.control, base + DONE, done, 1000);
    }
    if (Atomics.load(p.control, base + DONE) !== seq || Atomics.load(p.control, base + FAILED) === 1) failed.push(w);
  }
  if (ownError) throw ownError;
  return failed;
}

/**
 * Runs `jobs` (at most one per thread): jobs[0] on the calling thread with `own` (its kernel on whatever memory that
 * job's pointers are into), the others on the workers (pointers into the pool's memory). Returns when all are done.
 */
export function runJobs(own: GemmFn, jobs: GemmJob[]): void {
  const p = pool;
  if (!p || !p.started || jobs.length > p.threads) throw new Error('runJobs: the pool is not ready for this many jobs');
  const writes = jobs.slice(1).map((j) => (base: number) => {
    p.control[base + KIND] = 0;
    for (let x = 0; x < 11; x++) p.control[base + JOB + x] = j.args[x] | 0;
    p.control[base + JOB + 11] = j.reps;
    p.control[base + JOB + 12] = j.da | 0;
    p.control[base + JOB + 13] = j.db | 0;
    p.control[base + JOB + 14] = j.dc | 0;
  });
  const failed = dispatch(p, writes, () => {
    if (jobs.length) runJob(own, jobs[0]);
  });
  if (failed.length) {
    // The same job on the calling thread (the pool's memory holds its operands): the product is still right.
    for (const w of failed) runJob(p.gemm, jobs[w + 1]);
    fallBack('a worker thread failed');
  }
}

/** One worker's part of a 2-D product for XNNPACK: C [M, N] = A [M, K] · B [K, N] at byte offsets of the pool's memory. */
export interface XnnJob {
  a: number;
  b: number;
  c: number;
  M: number;
  K: number;
  N: number;
}

/** The threads that can run XNNPACK jobs now (the calling one and every worker), or 1 when any worker cannot. */
export function xnnThreads(): number {
  const p = ready();
  if (!p) return 1;
  for (let w = 0; w < p.workers.length; w++) if (Atomics.load(p.control, w * SLOT + XNN) !== 1) return 1;
  return p.threads;
}

/**
 * Runs jobs[i] on worker i while `own` runs on the calling thread; returns the indices of the jobs that did not
 * complete (a worker failed or died: the caller computes those parts itself). The pool is turned off after a failure.
 */
export function runXnnJobs(own: () => void, jobs: XnnJob[]): number[] {
  const p = pool;
  if (!p || !p.started || jobs.length > p.workers.length) throw new Error('runXnnJobs: the pool is not ready for this many jobs');
  const writes = jobs.map((j) => (base: number) => {
    p.control[base + KIND] = 1;
    p.control.set([j.a, j.b, j.c, j.M, j.K, j.N], base + JOB);
  });
  const failed = dispatch(p, writes, own);
  if (failed.length) fallBack('a worker thread failed');
  return failed;
}
