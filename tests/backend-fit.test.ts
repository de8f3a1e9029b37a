// Fitting a model to the wasm heap: one that fits with XNNPACK's packed weight copies keeps the default matMul
// route; one that fits only without them switches to the kit's matMul for every product (route 'all'); one that
// does not fit at all moves an automatically picked wasm backend to cpu, saying why, while a wasm backend asked for
// by name stays, with a warning. (Its own file: it changes the process's backend and matMul route.)
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { currentBackend, fitBackendToModel, initBackend, WASM_HEAP_BYTES, wasmHeapNeeded } from '../src/backend';
import { gemmRoute, setGemmRoute } from '../src/lm/kernels/gemm';
import { weightBytes } from '../src/lm/load';
import { loadHfConfig } from '../src/lm/config';

const QWEN25 = 4 * 494032768;
const QWEN3 = 4 * 596049920;
afterAll(() => setGemmRoute('batched'));

describe('fitBackendToModel', () => {
  it('the heap each shape needs: the 0.5B shapes fit only without packed copies, Qwen3-1.7B not at all', () => {
    expect(weightBytes(loadHfConfig('bench/shapes/qwen2.5-0.5b'))).toBe(QWEN25);
    expect(weightBytes(loadHfConfig('bench/shapes/qwen3-0.6b'))).toBe(QWEN3);
    // 2 × 1,976,131,072 + 1,073,741,824 = 5,026,003,968; 1,976,131,072 + 1,073,741,824 = 3,049,872,896.
    expect(wasmHeapNeeded(QWEN25)).toBe(5026003968);
    expect(wasmHeapNeeded(QWEN25, false)).toBe(3049872896);
    expect(wasmHeapNeeded(QWEN3, false)).toBe(3457941504);
    expect(wasmHeapNeeded(QWEN3, false)).toBeLessThanOrEqual(WASM_HEAP_BYTES);
    expect(wasmHeapNeeded(weightBytes(loadHfConfig('bench/shapes/qwen3-1.7b')), false)).toBeGreaterThan(WASM_HEAP_BYTES);
    // Training θ adds its gradients and Adam's two moments: 1 + 3 times the weights, lean.
    expect(wasmHeapNeeded(QWEN25, false, true)).toBe(4 * QWEN25 + 1073741824);
    expect(wasmHeapNeeded(QWEN25, true, true)).toBe(5 * QWEN25 + 1073741824);
    expect(wasmHeapNeeded(4e6, true, true)).toBeLessThan(WASM_HEAP_BYTES / 2); // the tiny models train on wasm
  });

  it('auto: small stays; a 0.5B shape switches the matMul route to all; a larger one moves to cpu, each said once', async () => {
    const lines: string[] = [];
    const info = await initBackend('auto', { log: (l) => lines.push(l) });
    if (info.name !== 'wasm' || !tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) return; // tfjs-node or a GPU never picks wasm
    expect(gemmRoute()).toBe('batched');
    expect(fitBackendToModel(1e6, 'small')?.name).toBe('wasm');
    expect(lines.length).toBe(1);
    expect(gemmRoute()).toBe('batched');
    const lean = fitBackendToModel(QWEN3, 'bench/shapes/qwen3-0.6b');
    expect(lean?.name).toBe('wasm');
    expect(gemmRoute()).toBe('all');
    expect(lean?.detail).toContain('matMul all');
    expect(lines[1]).toContain("matMul route 'all'");
    expect(lines[1]).toContain('bench/shapes/qwen3-0.6b has 2.38 GB of float32 weights: with XNNPACK\'s packed copies they would need about 5.84 GB of the 4.29 GB heap, without them 3.46 GB');
    expect(fitBackendToModel(QWEN3, 'again')?.name).toBe('wasm');
    expect(lines.length).toBe(2);
    // Training θ of a 0.5B shape: its gradients and Adam's moments do not fit the heap even without packed copies.
    const b = fitBackendToModel(QWEN25, 'bench/shapes/qwen2.5-0.5b', { trainsTheta: true });
    expect(b?.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(currentBackend()?.name).toBe('cpu');
    expect(lines[2]).toContain('TF.js backend cpu instead of wasm');
    expect(lines[2]).toContain('bench/shapes/qwen2.5-0.5b has 1.98 GB of float32 weights and the run trains them (gradients and Adam\'s moments: 3 × more)');
    expect(lines[2]).toContain('about 8.98 GB of its 4.29 GB heap');
    expect(b?.detail).toContain('chosen instead of wasm');
    // Tensors work on it at once.
    expect(tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]).toBe(3);
  });

  it('wasm asked for by name stays, with a warning naming the sizes', async () => {
    const lines: string[] = [];
    await initBackend('wasm', { log: (l) => lines.push(l) });
    expect(fitBackendToModel(4 * 1.8e9, 'M')?.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(lines.at(-1)).toContain('warning: M has 7.20 GB');
    expect(lines.at(-1)).toContain('--backend cpu');
  });
});
