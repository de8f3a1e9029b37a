// Fixes that make tfjs-backend-webgpu 4.22 work under Node.js + Dawn (the `webgpu` package); patchWebgpuBackend()
// applies them once the backend has started. First, synchronous reads (dataSync / arraySync):
//
// tfjs-backend-webgpu 4.22 implements readSync through OffscreenCanvas, which Node does not have: every dataSync()
// on webgpu throws "OffscreenCanvas is not defined". The kit reads small results synchronously in many places
// (sampling on the host, loss values), so this module gives the backend a readSync that works under Dawn:
//
// Dawn for Node completes GPU work (e.g. buffer.mapAsync) only when its instance processes events, and it schedules
// that processing by calling `globalThis.setImmediate` with a native callback (dawn/node AsyncRunner::QueueTick; it
// looks setImmediate up at each call). installDawnTickHook() wraps setImmediate so that those native callbacks are
// kept in a set, run by one real setImmediate as before or on demand; readSync copies the tensor into a staging
// buffer, starts mapAsync, and runs the pending Dawn callbacks itself (each one processes events and queues the next)
// until the buffer is mapped. Only unnamed native functions are treated as Dawn's (bound functions are named).
// Checked with webgpu 0.6.2 (pinned in package.json): tests/webgpu/ exercises it on lavapipe.
//
// Then:
// * AddN with more inputs than the device's maxStorageBuffersPerShaderStage - 1 (8 - 1 by default: tfjs does not ask
//   for more) fails validation and yields garbage; the kit's global-norm clipping adds ~50 gradient norms. The
//   replacement kernel sums in chunks.
// * Dawn reports validation errors only as printed warnings, and the results are silently wrong: they are recorded
//   and the next read (sync or async) throws instead.
// * tfjs's buffer pool keeps every freed GPU buffer for reuse, per exact size, forever: sequences that grow (full
//   recompute, training on batches of varying length) filled 21 GB of lavapipe's memory on the benchmark shape
//   before the OOM killer struck. Free buffers beyond config key device.webgpuPoolMB (default 1024 MiB; the run's
//   plan applies it with setWebgpuPoolBytes) are destroyed, the oldest sizes first.
// * Dawn releases a bind group when its JS wrapper is garbage-collected AND Node's event loop turns (Node 20 runs
//   N-API finalizers from an immediate). The kit's loops are synchronous, and tfjs makes a bind group (plus a layout
//   wrapper) per dispatch: lavapipe maps memory per descriptor set, so a 160-token evaluation reached the kernel's
//   65530-mapping limit and crashed inside vkCreateDescriptorPool. Bind groups are cached by (layout, buffers): a
//   decoding loop reuses the same pooled buffers step after step, so most dispatches hit.
import * as tf from '@tensorflow/tfjs';

// Dawn's pending event-processing callbacks. Only ONE real setImmediate is outstanding at a time (it runs whatever
// is pending when the event loop turns): a synchronous caller that never yields would otherwise pile up an immediate
// per Dawn tick (thousands per read) and run out of heap.
const pending = new Set<() => void>();
let drainScheduled = false;
let hooked = false;
let realSetImmediate: typeof setImmediate;

function isDawnCallback(fn: unknown): fn is () => void {
  return typeof fn === 'function' && fn.name === '' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

/** Wraps globalThis.setImmediate to keep Dawn's event-processing callbacks runnable on demand. Call before Dawn starts. */
export function installDawnTickHook(): void {
  if (hooked) return;
  hooked = true;
  realSetImmediate = globalThis.setImmediate;
  const hook = function (fn: (...a: unknown[]) => void, ...args: unknown[]) {
    if (!isDawnCallback(fn)) return realSetImmediate(fn, ...args);
    pending.add(fn);
    if (!drainScheduled) {
      drainScheduled = true;
      realSetImmediate(drain);
    }
    return undefined; // Dawn ignores the result
  };
  globalThis.setImmediate = Object.assign(hook, realSetImmediate) as unknown as typeof setImmediate;
}

function drain(): void {
  drainScheduled = false;
  runPending();
}

/** Runs the callbacks pending now (each processes Dawn's events and may queue a successor for later). */
function runPending(): void {
  const now = [...pending];
  pending.clear();
  for (const fn of now) fn();
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Runs Dawn's pending event processing until `ready()` holds. Throws if Dawn has nothing pending to run. */
function pumpUntil(ready: () => boolean, what: string): void {
  for (let spins = 0; !ready(); spins++) {
    if (pending.size === 0) {
      throw new Error(
        `webgpu: cannot wait synchronously for ${what}: no Dawn event processing is pending ` +
          `(Dawn started before installDawnTickHook, or the webgpu package changed how it schedules work); use await tensor.data()`,
      );
    }
    runPending();
    // After a short spin, sleep 50 µs between polls: a long GPU job (or lavapipe's worker threads) gets the CPU.
    if (spins > 64) Atomics.wait(sleeper, 0, 0, 0.05);
  }
}

interface GpuBufferLike {
  size: number;
  mapState: string;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}
interface WebgpuBackendLike {
  tensorMap: { get(id: object): { dtype: tf.DataType; values: unknown; resource: GpuBufferLike } };
  bufferManager: { acquireBuffer(size: number, usage: number): GpuBufferLike; releaseBuffer(b: GpuBufferLike): void };
  commandEncoder: { copyBufferToBuffer(a: GpuBufferLike, ao: number, b: GpuBufferLike, bo: number, n: number): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(id: object, v: unknown): unknown;
  readSync(id: object): unknown;
  read(id: object): Promise<unknown>;
  disposeData(id: object, force?: boolean): boolean;
  device: { limits: { maxStorageBuffersPerShaderStage: number }; addEventListener(type: string, fn: (ev: { error?: { message?: string } }) => void): void };
}

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

/** Applies the three fixes above to the running webgpu backend. Call once, right after tf.setBackend('webgpu'). */
let patched = false;

export function patchWebgpuBackend(): void {
  if (patched) return;
  patched = true;
  const backend = tf.findBackend('webgpu') as unknown as WebgpuBackendLike | null;
  if (!backend) throw new Error('webgpu backend is not registered');
  watchValidationErrors(backend);
  patchReadSync(backend);
  chunkAddN(backend);
  boundBufferPool(backend);
  cacheBindGroups(backend);
}

interface BufferBinding {
  buffer?: object;
  offset?: number;
  size?: number;
}
interface DeviceLike {
  createComputePipeline(d: unknown): PipelineLike;
  createComputePipelineAsync(d: unknown): Promise<PipelineLike>;
  createBindGroup(d: { layout: object; entries: { binding: number; resource: BufferBinding }[] }): object;
}
interface PipelineLike {
  getBindGroupLayout(i: number): object;
}

const BIND_GROUP_CACHE = 4096;

/** Stable layout objects per pipeline, and an LRU cache of bind groups keyed by layout and bound buffer ranges. */
function cacheBindGroups(backend: WebgpuBackendLike): void {
  const device = backend.device as unknown as DeviceLike;
  const ids = new WeakMap<object, number>();
  let nextId = 1;
  const id = (o: object) => {
    let i = ids.get(o);
    if (i === undefined) ids.set(o, (i = nextId++));
    return i;
  };
  const stable = new WeakSet<object>();
  const stabilize = (p: PipelineLike): PipelineLike => {
    const get = p.getBindGroupLayout.bind(p);
    const layouts = new Map<number, object>();
    p.getBindGroupLayout = (i: number) => {
      let l = layouts.get(i);
      if (!l) {
        layouts.set(i, (l = get(i)));
        stable.add(l);
      }
      return l;
    };
    return p;
  };
  const create = device.createComputePipeline.bind(device);
  const createAsync = device.createComputePipelineAsync.bind(device);
  device.createComputePipeline = (d) => stabilize(create(d));
  device.createComputePipelineAsync = async (d) => stabilize(await createAsync(d));
  const createBindGroup = device.createBindGroup.bind(device);
  const cache = new Map<string, object>();
  device.createBindGroup = (desc) => {
    if (!stable.has(desc.layout) || desc.entries.some((e) => !e.resource?.buffer)) return createBindGroup(desc);
    const key = `${id(desc.layout)}|${desc.entries.map((e) => `${e.binding}:${id(e.resource.buffer!)}@${e.resource.offset ?? 0}+${e.resource.size ?? ''}`).join(',')}`;
    let group = cache.get(key);
    if (group) {
      cache.delete(key); // most recently used last
    } else {
      group = createBindGroup(desc);
      if (cache.size >= BIND_GROUP_CACHE) cache.delete(cache.keys().next().value!);
    }
    cache.set(key, group);
    return group;
  };
}

/** Bytes of free buffers the pool keeps (config key device.webgpuPoolMB, set from the run's plan). */
let poolCap = 1024 * 2 ** 20;

/** Sets the buffer pool's cap (bytes); takes effect at the next release. */
export function setWebgpuPoolBytes(bytes: number): void {
  if (!(bytes >= 0)) throw new Error(`webgpu buffer pool: the cap must be a number of bytes >= 0, got ${bytes}`);
  poolCap = bytes;
}

interface BufferManagerLike {
  freeBuffers: Map<string, { size: number; destroy(): void }[]>;
  numBytesAllocated: number;
  numBytesUsed: number;
  numFreeBuffers: number;
  releaseBuffer(b: unknown, reuse?: boolean): void;
}

/** Destroys pooled free buffers once they exceed the cap (poolCap), oldest sizes first, down to half the cap. */
function boundBufferPool(backend: WebgpuBackendLike): void {
  const bm = backend.bufferManager as unknown as BufferManagerLike;
  const release = bm.releaseBuffer.bind(bm);
  bm.releaseBuffer = (b: unknown, reuse?: boolean) => {
    release(b, reuse);
    const cap = poolCap;
    if (bm.numBytesAllocated - bm.numBytesUsed <= cap) return;
    for (const list of bm.freeBuffers.values()) {
      while (list.length > 0 && bm.numBytesAllocated - bm.numBytesUsed > cap / 2) {
        const buf = list.pop()!;
        bm.numBytesAllocated -= buf.size;
        bm.numFreeBuffers--;
        buf.destroy();
      }
      if (bm.numBytesAllocated - bm.numBytesUsed <= cap / 2) break;
    }
  };
}

let gpuError: string | null = null;

function watchValidationErrors(backend: WebgpuBackendLike): void {
  backend.device.addEventListener('uncapturederror', (ev: { error?: { message?: string } }) => {
    gpuError ??= (ev.error?.message ?? 'unknown error').trim().split('\n')[0];
  });
  const read = backend.read.bind(backend);
  backend.read = async (dataId: object) => {
    const v = await read(dataId);
    throwIfGpuError();
    return v;
  };
}

function throwIfGpuError(): void {
  if (gpuError) throw new Error(`webgpu: a GPU command failed (results are invalid): ${gpuError}`);
}

function chunkAddN(backend: WebgpuBackendLike): void {
  const kernel = tf.getKernel('AddN', 'webgpu');
  if (!kernel) throw new Error('webgpu backend has no AddN kernel');
  const original = kernel.kernelFunc as unknown as (a: { inputs: TensorInfoLike[]; backend: unknown; attrs?: unknown }) => TensorInfoLike;
  const maxInputs = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
  const addN = (args: { inputs: TensorInfoLike[]; backend: unknown; attrs?: unknown }): TensorInfoLike => {
    const xs = args.inputs;
    if (xs.length <= maxInputs) return original(args);
    const partial: TensorInfoLike[] = [];
    for (let i = 0; i < xs.length; i += maxInputs) {
      partial.push(original({ ...args, inputs: xs.slice(i, i + maxInputs) }));
    }
    const out = addN({ ...args, inputs: partial });
    for (const p of partial) backend.disposeData(p.dataId);
    return out;
  };
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({ ...kernel, kernelFunc: addN as unknown as tf.KernelFunc });
}

function patchReadSync(backend: WebgpuBackendLike): void {
  const original = backend.readSync.bind(backend);
  const g = globalThis as unknown as { GPUBufferUsage: { COPY_DST: number; MAP_READ: number }; GPUMapMode: { READ: number } };
  backend.readSync = (dataId: object) => {
    const data = backend.tensorMap.get(dataId);
    // Values already on the CPU, strings and complex64 (whose parts come back through this readSync) as before.
    if (data.values != null || data.dtype === 'string' || data.dtype === 'complex64') return original(dataId);
    const src = data.resource;
    const staging = backend.bufferManager.acquireBuffer(src.size, g.GPUBufferUsage.COPY_DST | g.GPUBufferUsage.MAP_READ);
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.commandEncoder.copyBufferToBuffer(src, 0, staging, 0, src.size);
    backend.submitQueue();
    let failure: Error | null = null;
    staging.mapAsync(g.GPUMapMode.READ).catch((e: Error) => {
      failure = e;
    });
    pumpUntil(() => staging.mapState !== 'pending', 'a GPU buffer to map');
    if (staging.mapState !== 'mapped') {
      throw new Error(`webgpu: mapping a GPU buffer for reading failed${failure ? `: ${(failure as Error).message}` : ''}`);
    }
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    backend.bufferManager.releaseBuffer(staging);
    const values = (tf.util as unknown as { convertBackendValuesAndArrayBuffer(b: ArrayBuffer, d: tf.DataType): unknown }).convertBackendValuesAndArrayBuffer(
      bytes,
      data.dtype,
    );
    backend.convertAndCacheOnCPU(dataId, values);
    throwIfGpuError();
    return values;
  };
}
