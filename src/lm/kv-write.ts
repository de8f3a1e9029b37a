// Writing one decoding step's keys and values into the KV cache in place, where the backend's tensors live in CPU
// memory (wasm: its heap; cpu: JavaScript arrays). The portable path, cache + one-hot(slot) ⊗ new, reads and writes the
// whole cache of every layer at every step: at B128 and 160 slots that multiply and add were 6.5 of a decode step's
// 12.3 ms of kernel time on the tiny shape (docs/benchmarks.md#where-the-time-goes), to change B · kv · hd values per
// layer.
// In place it is exactly those values, and the same numbers: the slot holds 0 before, and 0 + 1 · x = x.
import * as tf from '@tensorflow/tfjs';

interface WasmLike {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
  refCount(id: unknown): number;
}
interface CpuLike {
  data: { get(id: unknown): { values?: ArrayLike<number> } | undefined };
  refCount(id: unknown): number;
}

/** The Float32Array that holds `t`'s values, without a copy, or null where the backend keeps them elsewhere (GPU).
 *  Read it at once: on wasm a later allocation that grows the heap detaches the view. */
export function storeOf(t: tf.Tensor): { arr: Float32Array; at: number } | null {
  if (t.dtype !== 'float32') return null;
  const name = tf.getBackend();
  const be = tf.backend() as unknown;
  if (name === 'wasm') {
    const w = be as WasmLike;
    const d = w.dataIdMap.get(t.dataId);
    return d ? { arr: w.wasm.HEAPF32, at: d.memoryOffset / 4 } : null;
  }
  if (name === 'cpu') {
    const v = (be as CpuLike).data.get(t.dataId)?.values;
    return v instanceof Float32Array ? { arr: v, at: 0 } : null;
  }
  return null;
}

/**
 * kT [B, kv, hd, S] ← k [B, kv·hd] at column `slot`, and vC [B, kv, S, hd] ← v [B, kv·hd] at row `slot`, in place.
 * Returns false, having changed nothing, where it cannot: a backend whose tensors are not in CPU memory, or a cache
 * tensor that shares its data with another tensor (refCount > 1), which an in-place write would change too.
 */
export function writeKvSlotInPlace(kT: tf.Tensor, vC: tf.Tensor, k: tf.Tensor, v: tf.Tensor, slot: number): boolean {
  // First of all: on a GPU backend the reads below would be two device→host transfers per layer and step.
  const name = tf.getBackend();
  if (name !== 'wasm' && name !== 'cpu') return false;
  const be = tf.backend() as unknown as { refCount?: (id: unknown) => number };
  if (typeof be.refCount !== 'function' || be.refCount(kT.dataId) !== 1 || be.refCount(vC.dataId) !== 1) return false;
  const [B, kv, hd, S] = kT.shape;
  // With B · kv = 1 attention's products are 2-D, and on wasm XNNPACK runs them and keeps a packed copy of the cache
  // operand keyed by its tensor: written in place, the next step would multiply with the stale copy (seen: a qwen2
  // fixture with one KV head, decoded one row at a time). Such a cache gets new tensors (the portable path).
  if (B * kv === 1 && name === 'wasm') return false;
  // Reading k and v first: on wasm dataSync of a computed tensor is a copy out of the heap, and the views below are
  // taken after it (a heap that grows detaches older views).
  const kd = k.dataSync() as Float32Array;
  const vd = v.dataSync() as Float32Array;
  const ks = storeOf(kT);
  const vs = storeOf(vC);
  if (!ks || !vs) return false;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < kv; h++) {
      const src = (b * kv + h) * hd;
      const kBase = ks.at + (b * kv + h) * hd * S + slot;
      for (let e = 0; e < hd; e++) ks.arr[kBase + e * S] = kd[src + e];
      vs.arr.set(vd.subarray(src, src + hd), vs.at + ((b * kv + h) * S + slot) * hd);
    }
  }
  return true;
}
