// `introllm logits`: logits and final hidden states of a model for one sequence of token ids, for checking the kit's
// decoder against other implementations. `--mode incremental` feeds the positions one at a time through the KV cache.
import * as tf from '@tensorflow/tfjs';
import { initBackend, loadModelOnBackend } from '../backend';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { intListFlag, parseFlags, requireFlag } from './args';

export function modelLogits(model: import('../lm/model').Decoder, ids: number[], mode: 'full' | 'incremental'): { logits: number[][]; hidden: number[][] } {
  const V = model.cfg.vocabSize;
  const bad = ids.findIndex((i) => i >= V);
  if (bad >= 0) throw new KitError(`--ids: token id ${ids[bad]} (item ${bad + 1}) is outside the vocabulary [0, ${V})`);
  if (mode === 'full') {
    const out = tf.tidy(() => {
      const r = model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'));
      return [r.logits.squeeze([0]), r.hidden.squeeze([0])];
    });
    const res = { logits: out[0].arraySync() as number[][], hidden: out[1].arraySync() as number[][] };
    tf.dispose(out);
    return res;
  }
  const cache = model.createCache(1, ids.length);
  const logits: number[][] = [];
  const hidden: number[][] = [];
  try {
    for (let t = 0; t < ids.length; t++) {
      const out = tf.tidy(() => {
        const r = t === 0 ? model.prefill(cache, tf.tensor2d([[ids[0]]], [1, 1], 'int32')) : model.decodeStep(cache, [ids[t]]);
        return [tf.reshape(r.logits, [-1]), tf.reshape(r.hidden, [-1])];
      });
      logits.push(Array.from(out[0].dataSync()));
      hidden.push(Array.from(out[1].dataSync()));
      tf.dispose(out);
    }
  } finally {
    cache.dispose();
  }
  return { logits, hidden };
}

export const command: Command = {
  summary: 'Print the logits and final hidden states of a model for a sequence of token ids (one JSON object).',
  usage: 'introllm logits --model DIR --ids 1,5,9 [--mode full|incremental] [--backend NAME]',
  async run(argv) {
    const f = parseFlags(argv, { model: { type: 'string' }, ids: { type: 'string' }, mode: { type: 'string', default: 'full' }, backend: { type: 'string' } });
    const dir = requireFlag(f, 'model');
    const ids = intListFlag(f, 'ids');
    if (f.mode !== 'full' && f.mode !== 'incremental') throw new KitError(`--mode must be 'full' or 'incremental', got '${f.mode}'`);
    await initBackend(f.backend as string | undefined);
    const { model } = loadModelOnBackend(dir, { trainable: false });
    process.stdout.write(JSON.stringify(modelLogits(model, ids, f.mode)) + '\n');
    model.dispose();
    return 0;
  },
};
