// A model too large for the wasm heap: an automatically picked wasm backend gives way to cpu, saying why; a wasm
// backend asked for by name stays, with a warning. (Its own file: it changes the process's backend.)
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { currentBackend, fitBackendToModel, initBackend, WASM_HEAP_BYTES, wasmHeapNeeded } from '../src/backend';
import { weightBytes } from '../src/lm/load';
import { loadHfConfig } from '../src/lm/config';

describe('fitBackendToModel', () => {
  it('the two 0.5B shapes: Qwen2.5-0.5B fits the wasm heap, Qwen3-0.6B does not', () => {
    // 494,032,768 and 596,049,920 float32 parameters.
    expect(weightBytes(loadHfConfig('bench/shapes/qwen2.5-0.5b'))).toBe(4 * 494032768);
    expect(weightBytes(loadHfConfig('bench/shapes/qwen3-0.6b'))).toBe(4 * 596049920);
    // 2 × 1,976,131,072 + 268,435,456 = 4,220,697,600 ≤ 4,294,967,296; 2 × 2,384,199,680 + 268,435,456 = 5,036,834,816.
    expect(wasmHeapNeeded(4 * 494032768)).toBe(4220697600);
    expect(wasmHeapNeeded(4 * 494032768)).toBeLessThanOrEqual(WASM_HEAP_BYTES);
    expect(wasmHeapNeeded(4 * 596049920)).toBe(5036834816);
  });

  it('auto: a small model stays on wasm; one over the heap moves to cpu with the reason, once', async () => {
    const lines: string[] = [];
    const info = await initBackend('auto', { log: (l) => lines.push(l) });
    if (info.name !== 'wasm') return; // a machine with tfjs-node or a GPU never picks wasm
    expect(fitBackendToModel(1e6, 'small')?.name).toBe('wasm');
    expect(lines.length).toBe(1);
    const b = fitBackendToModel(4 * 596049920, 'bench/shapes/qwen3-0.6b');
    expect(b?.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(currentBackend()?.name).toBe('cpu');
    expect(lines[1]).toContain('TF.js backend cpu instead of wasm');
    expect(lines[1]).toContain('bench/shapes/qwen3-0.6b has 2.38 GB of float32 weights');
    expect(lines[1]).toContain('about 5.04 GB of its 4.29 GB heap');
    expect(b?.detail).toContain('chosen instead of wasm');
    // Tensors work on it at once.
    expect(tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]).toBe(3);
  });

  it('wasm asked for by name stays, with a warning naming the sizes', async () => {
    const lines: string[] = [];
    await initBackend('wasm', { log: (l) => lines.push(l) });
    expect(fitBackendToModel(4 * 596049920, 'M')?.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(lines.at(-1)).toContain('warning: M has 2.38 GB');
    expect(lines.at(-1)).toContain('--backend cpu');
  });
});
