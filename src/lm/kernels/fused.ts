// Fused kernels for the decoder's elementwise chains, forward and backward: RMSNorm, the MLP's SiLU(gate) · up, and
// RoPE. Composed from tfjs ops each of them is a chain of small kernels, and under autograd its backward a longer
// one: an RMSNorm is 7 kernels forward (square, mean, add, rsqrt and three products) and about 15 backward, a third
// of all kernels of a decoding step (docs/performance.md), each paying the engine's per-kernel bookkeeping and a
// pass over memory. Here each is one kernel forward and one backward, registered for the backends whose tensors live
// in CPU memory (wasm: its heap; cpu: JavaScript arrays), where a kernel can be plain JavaScript over the values.
// Other backends (webgpu, tensorflow) keep the composed ops: the op functions below choose, by backend and shape, so
// the decoder has one definition.
//
// Numerics: each output is computed in double precision and rounded to float32 once, where the composed ops round
// after every step; the two agree to a few float32 ulps (tests/lm/fused.test.ts compares them, forward and gradients,
// and the PyTorch parity fixtures run through these kernels).
import * as tf from '@tensorflow/tfjs';

interface KernelDef {
  name: string;
  inputs: string[];
  /** The output shapes, from the inputs' shapes. */
  outShapes(shapes: number[][], attrs: Record<string, number>): number[][];
  /** Writes every element of every output (they are not zeroed beforehand). */
  compute(ins: Float32Array[], outs: Float32Array[], shapes: number[][], attrs: Record<string, number>): void;
}

interface WasmLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}
interface CpuLike {
  readSync(id: unknown): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}
type KernelArgs<B> = { inputs: Record<string, tf.TensorInfo>; backend: B; attrs: Record<string, number> };

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function inputsOf(def: KernelDef, inputs: Record<string, tf.TensorInfo>): tf.TensorInfo[] {
  return def.inputs.map((n) => {
    const t = inputs[n];
    if (!t || t.dtype !== 'float32') throw new Error(`${def.name}: input '${n}' must be a float32 tensor, got ${t ? t.dtype : 'none'}`);
    return t;
  });
}

function wasmKernel(def: KernelDef) {
  return ({ inputs, backend, attrs }: KernelArgs<WasmLike>): tf.TensorInfo | tf.TensorInfo[] => {
    const ins = inputsOf(def, inputs);
    const shapes = ins.map((t) => t.shape);
    const outs = def.outShapes(shapes, attrs).map((s) => backend.makeOutput(s, 'float32'));
    // Views after every makeOutput: a heap that grows detaches the views taken before.
    def.compute(
      ins.map((t) => backend.typedArrayFromHeap(t)),
      outs.map((t) => backend.typedArrayFromHeap(t)),
      shapes,
      attrs,
    );
    return outs.length === 1 ? outs[0] : outs;
  };
}

function cpuKernel(def: KernelDef) {
  return ({ inputs, backend, attrs }: KernelArgs<CpuLike>): tf.TensorInfo | tf.TensorInfo[] => {
    const ins = inputsOf(def, inputs);
    const shapes = ins.map((t) => t.shape);
    const outShapes = def.outShapes(shapes, attrs);
    const outArrays = outShapes.map((s) => new Float32Array(size(s)));
    def.compute(
      ins.map((t) => {
        const v = backend.readSync(t.dataId);
        return v instanceof Float32Array ? v : Float32Array.from(v);
      }),
      outArrays,
      shapes,
      attrs,
    );
    const outs = outShapes.map((s, i) => backend.makeTensorInfo(s, 'float32', outArrays[i]));
    return outs.length === 1 ? outs[0] : outs;
  };
}

// ---- the kernels ----

/** RMSNorm over the last axis: y = x · w / sqrt(mean(x²) + eps). x [..., d], w [d]. */
const RMS_NORM: KernelDef = {
  name: 'KitRmsNorm',
  inputs: ['x', 'w'],
  outShapes: ([x]) => [x],
  compute([x, w], [y], [xs], { eps }) {
    const d = xs[xs.length - 1];
    for (let r = 0; r < x.length; r += d) {
      let ss = 0;
      for (let j = 0; j < d; j++) ss += x[r + j] * x[r + j];
      const inv = 1 / Math.sqrt(ss / d + eps);
      for (let j = 0; j < d; j++) y[r + j] = x[r + j] * inv * w[j];
    }
  },
};

/**
 * RMSNorm's gradient: with inv = (mean(x²) + eps)^(-1/2) per row, dx = inv · dy ⊙ w − x · inv³ · Σ(dy ⊙ w ⊙ x) / d and
 * dw = Σ_rows dy ⊙ x · inv (summed in double precision over all rows).
 */
const RMS_NORM_GRAD: KernelDef = {
  name: 'KitRmsNormGrad',
  inputs: ['x', 'w', 'dy'],
  outShapes: ([x, w]) => [x, w],
  compute([x, w, dy], [dx, dw], [xs], { eps }) {
    const d = xs[xs.length - 1];
    const acc = new Float64Array(d);
    for (let r = 0; r < x.length; r += d) {
      let ss = 0;
      let dot = 0;
      for (let j = 0; j < d; j++) {
        ss += x[r + j] * x[r + j];
        dot += dy[r + j] * w[j] * x[r + j];
      }
      const inv = 1 / Math.sqrt(ss / d + eps);
      const c = (dot * inv * inv * inv) / d;
      for (let j = 0; j < d; j++) {
        dx[r + j] = inv * dy[r + j] * w[j] - x[r + j] * c;
        acc[j] += dy[r + j] * x[r + j] * inv;
      }
    }
    dw.set(acc);
  },
};

/** The MLP's activation: SiLU(gate) · up = gate · σ(gate) · up, elementwise. */
const SILU_MUL: KernelDef = {
  name: 'KitSiluMul',
  inputs: ['gate', 'up'],
  outShapes: ([g]) => [g],
  compute([g, u], [y]) {
    for (let i = 0; i < g.length; i++) y[i] = (g[i] * u[i]) / (1 + Math.exp(-g[i]));
  },
};

/** Its gradient: with s = σ(gate), d gate = dy · up · s · (1 + gate · (1 − s)) and d up = dy · gate · s. */
const SILU_MUL_GRAD: KernelDef = {
  name: 'KitSiluMulGrad',
  inputs: ['gate', 'up', 'dy'],
  outShapes: ([g, u]) => [g, u],
  compute([g, u, dy], [dg, du]) {
    for (let i = 0; i < g.length; i++) {
      const s = 1 / (1 + Math.exp(-g[i]));
      dg[i] = dy[i] * u[i] * s * (1 + g[i] * (1 - s));
      du[i] = dy[i] * g[i] * s;
    }
  },
};

/**
 * RoPE, rotate-half convention: y = x · cos + rotate_half(x) · sin, rotate_half([x1, x2]) = [−x2, x1], for x [n, heads,
 * hd] and cos, sin [n, 1, hd]. With `transpose` 1 it is the map's transpose, which is its gradient:
 * dx = dy · cos + rotate_halfᵀ(dy · sin), rotate_halfᵀ([a1, a2]) = [a2, −a1].
 */
const ROPE: KernelDef = {
  name: 'KitRope',
  inputs: ['x', 'cos', 'sin'],
  outShapes: ([x]) => [x],
  compute([x, cos, sin], [y], [xs], { transpose }) {
    const [n, heads, hd] = xs;
    const half = hd / 2;
    for (let p = 0; p < n; p++) {
      const t = p * hd;
      for (let h = 0; h < heads; h++) {
        const r = (p * heads + h) * hd;
        for (let i = 0; i < half; i++) {
          const a = x[r + i];
          const b = x[r + half + i];
          if (transpose) {
            y[r + i] = a * cos[t + i] + b * sin[t + half + i];
            y[r + half + i] = b * cos[t + half + i] - a * sin[t + i];
          } else {
            y[r + i] = a * cos[t + i] - b * sin[t + i];
            y[r + half + i] = b * cos[t + half + i] + a * sin[t + half + i];
          }
        }
      }
    }
  },
};

const KERNELS = [RMS_NORM, RMS_NORM_GRAD, SILU_MUL, SILU_MUL_GRAD, ROPE];
const FUSED_BACKENDS = new Set<string>();
let enabled = true;

/** Registers the fused kernels for `backendName` ('wasm' or 'cpu'; once). */
export function installFusedKernels(backendName: 'wasm' | 'cpu'): void {
  if (FUSED_BACKENDS.has(backendName)) return;
  for (const def of KERNELS) {
    if (tf.getKernel(def.name, backendName)) continue;
    const kernelFunc = (backendName === 'wasm' ? wasmKernel(def) : cpuKernel(def)) as unknown as tf.KernelFunc;
    tf.registerKernel({ kernelName: def.name, backendName, kernelFunc });
  }
  FUSED_BACKENDS.add(backendName);
}

/** Test and benchmark hook: off, the op functions below compose tfjs ops on every backend. */
export function setFusedKernels(on: boolean): void {
  enabled = on;
}

/** Whether the op functions run the fused kernels on the backend in use. */
export function fusedKernels(): boolean {
  return enabled && FUSED_BACKENDS.has(tf.getBackend());
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}) =>
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
        value: run(RMS_NORM.name, { x, w }, { eps }) as tf.Tensor,
        gradFunc: (dy, [xs, ws]) => run(RMS_NORM_GRAD.name, { x: xs, w: ws, dy }, { eps }) as tf.Tensor[],
      };
    });
    rmsNormOp.set(eps, op);
  }
  return op;
}

const siluMulOp = custom2((gate, up, save) => {
  save([gate, up]);
  return {
    value: run(SILU_MUL.name, { gate, up }) as tf.Tensor,
    gradFunc: (dy, [g, u]) => run(SILU_MUL_GRAD.name, { gate: g, up: u, dy }) as tf.Tensor[],
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
      value: run(ROPE.name, { x: xi, cos, sin }, { transpose: 0 }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [c, s]: tf.Tensor[]) => [run(ROPE.name, { x: dy, cos: c, sin: s }, { transpose: 1 }) as tf.Tensor],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor) => tf.Tensor;
  return op(x);
}
