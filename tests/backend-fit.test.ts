// Fitting a model to the wasm heap: one that fits with XNNPACK's packed weight copies keeps the default matMul
// route; one that fits only without them switches to the kit's matMul for every product (route 'all'); a run that
// trains θ and fits only with θ's training state in host memory gets it there; one that does not fit at all moves an automatically picked wasm backend to cpu, saying why, while a wasm backend asked for
// by name stays, with a warning. (Its own file: it changes the process's backend and matMul route.)
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { currentBackend, fitBackendToModel, initBackend, WASM_HEAP_BYTES, wasmHeapNeeded } from '../src/backend';
import { gemmRoute, setGemmRoute } from '../src/lm/kernels/gemm';
import { largestTensorBytes, weightBytes } from '../src/lm/load';
import { loadHfConfig } from '../src/lm/config';
import { resolveConfig, setOverrides } from '../src/config';

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
    // Training θ with its state on the device adds its gradients and Adam's two moments: 1 + 3 times the weights, lean.
    expect(wasmHeapNeeded(QWEN25, false, 'device')).toBe(4 * QWEN25 + 1073741824);
    expect(wasmHeapNeeded(QWEN25, true, 'device')).toBe(5 * QWEN25 + 1073741824);
    expect(wasmHeapNeeded(4e6, true, 'device')).toBeLessThan(WASM_HEAP_BYTES / 2); // the tiny models train on wasm
    // With θ's state on the host only the largest tensor (the [1024, 151936] embedding: 622,329,856 bytes) is added:
    // 2,384,199,680 + 1,073,741,824 + 622,329,856 = 4,080,271,360, under the heap.
    expect(largestTensorBytes(loadHfConfig('bench/shapes/qwen3-0.6b'))).toBe(622329856);
    expect(wasmHeapNeeded(QWEN3, false, 'host', 622329856)).toBe(4080271360);
    expect(wasmHeapNeeded(QWEN3, false, 'host', 622329856)).toBeLessThanOrEqual(WASM_HEAP_BYTES);
  });

  it('auto: small stays; a 0.5B shape switches the matMul route to all; a larger one moves to cpu, each said once', async () => {
    const lines: string[] = [];
    const info = await initBackend('auto', { log: (l) => lines.push(l) });
    if (info.name !== 'wasm' || !tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) return; // tfjs-node or a GPU never picks wasm
    expect(gemmRoute()).toBe('batched');
    expect(fitBackendToModel(1e6, 'small').backend?.name).toBe('wasm');
    expect(lines.length).toBe(1);
    expect(gemmRoute()).toBe('batched');
    const lean = fitBackendToModel(QWEN3, 'bench/shapes/qwen3-0.6b').backend;
    expect(lean?.name).toBe('wasm');
    expect(gemmRoute()).toBe('all');
    expect(lean?.detail).toContain('matMul all');
    expect(lines[1]).toContain("matMul route 'all'");
    expect(lines[1]).toContain(
      "bench/shapes/qwen3-0.6b has 2.38 GB of float32 weights: with XNNPACK's packed copies they would need about 5.84 GB of the 4.29 GB heap, without them 3.46 GB",
    );
    expect(fitBackendToModel(QWEN3, 'again').backend?.name).toBe('wasm');
    expect(lines.length).toBe(2);
    // Training θ of a 0.5B shape, placement left to the kit: θ's gradients and Adam's moments go to host memory and
    // the model stays on wasm.
    const QWEN25_EMBED = 4 * 151936 * 896;
    const h = fitBackendToModel(QWEN25, 'bench/shapes/qwen2.5-0.5b', { theta: 'auto', largestBytes: QWEN25_EMBED });
    expect(h.backend?.name).toBe('wasm');
    expect(h.thetaOnHost).toBe(true);
    expect(lines[2]).toContain("θ's gradients and Adam's moments in host memory");
    expect(lines[2]).toContain('about 8.98 GB of the 4.29 GB heap, with them on the host 3.59 GB');
    // Where θ's state goes is config key device.thetaAdam now (was INTROLLM_THETA_ADAM), checked with the config.
    expect(() => resolveConfig({ overrides: setOverrides(['device.thetaAdam=gpu']) })).toThrow(
      /--set device.thetaAdam=gpu: config key 'device.thetaAdam' must be one of auto, device, host, got "gpu"/,
    );
    // With the state kept on the device (the benchmark's training loop) it does not fit: the backend moves to cpu.
    const b = fitBackendToModel(QWEN25, 'bench/shapes/qwen2.5-0.5b', { theta: 'device' }).backend;
    expect(b?.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(currentBackend()?.name).toBe('cpu');
    expect(lines[3]).toContain('TF.js backend cpu instead of wasm');
    expect(lines[3]).toContain('bench/shapes/qwen2.5-0.5b has 1.98 GB of float32 weights and the run trains them');
    expect(lines[3]).toContain('at least about 8.98 GB of its 4.29 GB heap');
    expect(b?.detail).toContain('chosen instead of wasm');
    // Tensors work on it at once.
    expect(tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]).toBe(3);
  });

  it('wasm asked for by name stays, with a warning naming the sizes', async () => {
    const lines: string[] = [];
    await initBackend('wasm', { log: (l) => lines.push(l) });
    expect(fitBackendToModel(4 * 1.8e9, 'M').backend?.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(lines.at(-1)).toContain('warning: M has 7.20 GB');
    expect(lines.at(-1)).toContain('--backend cpu');
  });
});
