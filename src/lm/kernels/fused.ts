// Fused kernels for the decoder's elementwise chains, forward and backward: RMSNorm, the MLP's SiLU(gate) · up, and
// RoPE. Composed from tfjs ops each of them is a chain of small kernels, and under autograd its backward a longer one
// whose broadcasts and reductions tfjs-wasm runs in generic loops: an RMSNorm is 7 kernels forward and about 30
// backward (with the [N, d] → [d] sum of the weight's gradient through a transpose), a third of all kernels of a
// decoding step and about a tenth of an update's kernel time (docs/performance.md). Here each is one WebAssembly SIMD
// kernel forward and one backward (fused-wat.ts, run on the wasm backend's own memory as the kit's matMul is), with
// the gradients written out. Other backends (webgpu, tensorflow, cpu) keep the composed ops: the op functions below
// choose by backend and shape, so the decoder has one definition. Host kernels (JavaScript on the heap, for small
// tensors and functions WebAssembly has no instruction for) are added by their users: ln Γ (src/policy/special.ts).
//
// Numerics: the forward kernels do the composed ops' float32 operations in their order (fused-wat.ts says how), so a
// forward pass — and so a rollout — is the same to the bit (tests/lm/fused.test.ts). The gradients sum in another
// order than autograd's and agree with it to float32 rounding.
import * as tf from '@tensorflow/tfjs';
import { FUSED_WASM_BASE64 } from './fused-binary';
import { memoryOf } from './gemm';

interface Exports {
  rmsnorm(x: number, w: number, y: number, n: number, d: number, eps: number): void;
  rmsnorm_grad(x: number, w: number, dy: number, dx: number, dw: number, n: number, d: number, eps: number): void;
  silu_mul(g: number, s: number, u: number, y: number, n: number): void;
  silu_mul_grad(g: number, s: number, u: number, dy: number, dg: number, du: number, n: number): void;
  rope(x: number, cos: number, sin: number, y: number, n: number, heads: number, half: number, transpose: number): void;
}

interface WasmBackend {
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
  dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

let compiled: WebAssembly.Module | null = null;
let instance: { memory: WebAssembly.Memory; exports: Exports } | null = null;

/** The kernels instantiated on the backend's memory (again if the backend's memory is a new one). */
function kernelsFor(backend: WasmBackend): Exports {
  const memory = memoryOf(backend);
  if (instance?.memory !== memory) {
    compiled ??= new WebAssembly.Module(Buffer.from(FUSED_WASM_BASE64, 'base64'));
    instance = { memory, exports: new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Exports };
  }
  return instance.exports;
}

interface KernelDef {
  name: string;
  inputs: string[];
  /** The output shapes, from the inputs' shapes. */
  outShapes(shapes: number[][]): number[][];
  /** Runs the kernel on byte offsets into the backend's memory. */
  call(k: Exports, ins: number[], outs: number[], shapes: number[][], attrs: Record<string, number>): void;
}

/** A kernel's inputs in its order, each checked to be a float32 tensor. */
function inputsOf(def: { name: string; inputs: string[] }, inputs: Record<string, tf.TensorInfo>): tf.TensorInfo[] {
  return def.inputs.map((n) => {
    const t = inputs[n];
    if (!t || t.dtype !== 'float32') throw new Error(`${def.name}: input '${n}' must be a float32 tensor, got ${t ? t.dtype : 'none'}`);
    return t;
  });
}

function kernelFunc(def: KernelDef) {
  return ({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: WasmBackend; attrs: Record<string, number> }) => {
    const ins = inputsOf(def, inputs);
    const shapes = ins.map((t) => t.shape);
    const outs = def.outShapes(shapes).map((s) => backend.makeOutput(s, 'float32'));
    const ptr = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    def.call(kernelsFor(backend), ins.map(ptr), outs.map(ptr), shapes, attrs);
    return outs.length === 1 ? outs[0] : outs;
  };
}

const rowsOf = (shape: number[]) => shape.slice(0, -1).reduce((a, b) => a * b, 1);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// ---- the kernels (the arithmetic is in fused-wat.ts) ----

const RMS_NORM: KernelDef = {
  name: 'KitRmsNorm',
  inputs: ['x', 'w'],
  outShapes: ([x]) => [x],
  call: (k, [x, w], [y], [xs], { eps }) => k.rmsnorm(x, w, y, rowsOf(xs), xs[xs.length - 1], eps),
};

const RMS_NORM_GRAD: KernelDef = {
  name: 'KitRmsNormGrad',
  inputs: ['x', 'w', 'dy'],
  outShapes: ([x, w]) => [x, w],
  call: (k, [x, w, dy], [dx, dw], [xs], { eps }) => k.rmsnorm_grad(x, w, dy, dx, dw, rowsOf(xs), xs[xs.length - 1], eps),
};

const SILU_MUL: KernelDef = {
  name: 'KitSiluMul',
  inputs: ['gate', 's', 'up'],
  outShapes: ([g]) => [g],
  call: (k, [g, s, u], [y], [gs]) => k.silu_mul(g, s, u, y, size(gs)),
};

const SILU_MUL_GRAD: KernelDef = {
  name: 'KitSiluMulGrad',
  inputs: ['gate', 's', 'up', 'dy'],
  outShapes: ([g, , u]) => [g, u],
  call: (k, [g, s, u, dy], [dg, du], [gs]) => k.silu_mul_grad(g, s, u, dy, dg, du, size(gs)),
};

const ROPE: KernelDef = {
  name: 'KitRope',
  inputs: ['x', 'cos', 'sin'],
  outShapes: ([x]) => [x],
  call: (k, [x, cos, sin], [y], [xs], { transpose }) => k.rope(x, cos, sin, y, xs[0], xs[1], xs[2] / 2, transpose),
};

const KERNELS = [RMS_NORM, RMS_NORM_GRAD, SILU_MUL, SILU_MUL_GRAD, ROPE];
let installed = false;
let enabled = true;

/**
 * A fused kernel computed in JavaScript on views of the wasm heap, for functions WebAssembly has no instruction for
 * (log, exp) on tensors of a few thousand elements: there a chain of tfjs kernels costs its per-kernel overhead many
 * times over, and JavaScript's per-element cost (a few ns) does not matter. Not for activations of every token.
 */
export interface HostKernel {
  name: string;
  inputs: string[];
  outShapes(shapes: number[][]): number[][];
  /** Writes every element of every output. */
  compute(ins: Float32Array[], outs: Float32Array[]): void;
}

const HOST_KERNELS: HostKernel[] = [];

function registerHost(def: HostKernel): void {
  const kernelFunc = ({
    inputs,
    backend,
  }: {
    inputs: Record<string, tf.TensorInfo>;
    backend: WasmBackend & { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
  }) => {
    const ins = inputsOf(def, inputs);
    const outs = def.outShapes(ins.map((t) => t.shape)).map((sh) => backend.makeOutput(sh, 'float32'));
    // Views after every makeOutput: a heap that grows detaches the views taken before.
    def.compute(
      ins.map((t) => backend.typedArrayFromHeap(t)),
      outs.map((t) => backend.typedArrayFromHeap(t)),
    );
    return outs.length === 1 ? outs[0] : outs;
  };
  tf.registerKernel({ kernelName: def.name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/** Adds a host kernel (registered with the others, or at once if they already are). */
export function addHostKernel(def: HostKernel): void {
  if (HOST_KERNELS.some((k) => k.name === def.name)) return;
  HOST_KERNELS.push(def);
  if (installed) registerHost(def);
}

/** Registers the fused kernels for the wasm backend (once; it needs the SIMD build, as the kit's matMul does). */
export function installFusedKernels(): void {
  if (installed) return;
  for (const def of KERNELS) tf.registerKernel({ kernelName: def.name, backendName: 'wasm', kernelFunc: kernelFunc(def) as unknown as tf.KernelFunc });
  for (const def of HOST_KERNELS) registerHost(def);
  installed = true;
}

/** Test and benchmark hook: off, the op functions below compose tfjs ops on every backend. */
export function setFusedKernels(on: boolean): void {
  enabled = on;
}

/** Whether the op functions run the fused kernels on the backend in use. */
export function fusedKernels(): boolean {
  return enabled && installed && tf.getBackend() === 'wasm';
}

export const runKernel = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}) =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];

type Grad2 = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
const custom2 = (
  f: (a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] },
) => tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Grad2;

// The gradients' own kernels run outside any scope of the caller (see linear in ../ops.ts); they make nothing else.
const rmsNormOp = new Map<number, Grad2>();
function fusedRmsNorm(eps: number): Grad2 {
  let op = rmsNormOp.get(eps);
  if (!op) {
    op = custom2((x, w, save) => {
      save([x, w]);
      return {
        value: runKernel(RMS_NORM.name, { x, w }, { eps }) as tf.Tensor,
        gradFunc: (dy, [xs, ws]) => runKernel(RMS_NORM_GRAD.name, { x: xs, w: ws, dy }, { eps }) as tf.Tensor[],
      };
    });
    rmsNormOp.set(eps, op);
  }
  return op;
}

const siluMulOp = custom2((gate, up, save) => {
  const s = tf.sigmoid(gate);
  save([gate, s, up]);
  return {
    value: runKernel(SILU_MUL.name, { gate, s, up }) as tf.Tensor,
    gradFunc: (dy, [g, sg, u]) => runKernel(SILU_MUL_GRAD.name, { gate: g, s: sg, up: u, dy }) as tf.Tensor[],
  };
});

/** RMSNorm over x's last axis with weight w [d]: one kernel each way where fused, else tfjs ops. */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  const d = x.shape[x.rank - 1];
  if (fusedKernels() && x.dtype === 'float32' && x.rank >= 1 && w.rank === 1 && w.shape[0] === d && d > 0) return fusedRmsNorm(eps)(x, w);
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/** SiLU(gate) · up, elementwise (the MLP's activation), for gate and up of one shape. */
export function siluMul(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  if (fusedKernels() && gate.dtype === 'float32' && up.dtype === 'float32' && gate.shape.join() === up.shape.join()) return siluMulOp(gate, up);
  return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
}

/**
 * RoPE (rotate-half) on x [n, heads, hd] with cos, sin [n, 1, hd] (no gradient). `composed` is the tfjs-op version,
 * used where the fused kernel does not run.
 */
export function rope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, composed: () => tf.Tensor): tf.Tensor {
  const [n, , hd] = x.shape;
  const table = [n, 1, hd].join();
  if (!(fusedKernels() && x.rank === 3 && hd % 2 === 0 && cos.shape.join() === table && sin.shape.join() === table)) return composed();
  const op = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    // Saved (kept) for the backward pass: the caller may dispose its tables before the tape runs.
    save([cos, sin]);
    return {
      value: runKernel(ROPE.name, { x: xi, cos, sin }, { transpose: 0 }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [c, s]: tf.Tensor[]) => [runKernel(ROPE.name, { x: dy, cos: c, sin: s }, { transpose: 1 }) as tf.Tensor],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor) => tf.Tensor;
  return op(x);
}
