// A weight's gradient two ways on wasm, side by side in one process, alternating (docs/benchmarks.md, "A weight's
// gradient"): xᵀ · dy, and (dyᵀ · x)ᵀ, which linear (src/lm/ops.ts) uses when w is wider than tall. x and dy are made
// fresh before each product, as in a backward pass (XNNPACK packs a right operand it has not seen). Prints and writes the
// median ms of 5 alternations (each the mean of 3 products), including the transposes each way needs.
//   npx tsx scripts/bench-weight-grad.ts [--json FILE]
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { initBackend } from '../src/backend';

const CASES: { what: string; tokens: number; din: number; dout: number }[] = [
  { what: "tiny preset's MLP up-projection, a 64-rollout update", tokens: 3168, din: 96, dout: 256 },
  { what: "tiny preset's MLP down-projection (taller than wide: xᵀ · dy kept)", tokens: 3168, din: 256, dout: 96 },
  { what: "tiny preset's k and v projections (taller than wide)", tokens: 3168, din: 96, dout: 48 },
  { what: "tiny preset's LM head (taller than wide)", tokens: 3136, din: 96, dout: 56 },
  { what: 'tiny shape MLP up, 128 × 160 tokens', tokens: 20480, din: 64, dout: 192 },
  { what: 'tiny shape MLP down, 128 × 160 tokens (taller than wide)', tokens: 20480, din: 192, dout: 64 },
  { what: '256-wide MLP down, 16 × 128 tokens (taller than wide)', tokens: 2048, din: 704, dout: 256 },
  { what: '256-wide MLP up, 16 × 128 tokens', tokens: 2048, din: 256, dout: 704 },
  { what: '256-wide MLP up, 5120 tokens', tokens: 5120, din: 256, dout: 704 },
];

(async () => {
  const ji = process.argv.indexOf('--json');
  const info = await initBackend('wasm', { log: () => {} });
  const rows = [];
  for (const c of CASES) {
    const x0 = tf.randomNormal([c.tokens, c.din], 0, 1, 'float32', 1);
    const dy0 = tf.randomNormal([c.tokens, c.dout], 0, 1, 'float32', 2);
    const ways = {
      'xT·dy': (x: tf.Tensor2D, dy: tf.Tensor2D) => tf.matMul(tf.transpose(x), dy),
      '(dyT·x)T': (x: tf.Tensor2D, dy: tf.Tensor2D) => tf.transpose(tf.matMul(tf.transpose(dy), x)),
    };
    const ms: Record<string, number[]> = { 'xT·dy': [], '(dyT·x)T': [] };
    const time = (f: (x: tf.Tensor2D, dy: tf.Tensor2D) => tf.Tensor) => {
      let t = 0;
      for (let i = 0; i < 4; i++) {
        // Fresh tensors, as a backward pass's are: XNNPACK keeps the packed copy of a right operand it has seen.
        const x = tf.mul(x0, 1) as tf.Tensor2D;
        const dy = tf.mul(dy0, 1) as tf.Tensor2D;
        const t0 = performance.now();
        const r = f(x, dy);
        r.dataSync();
        if (i > 0) t += performance.now() - t0; // the first is a warm-up
        tf.dispose([x, dy, r]);
      }
      return t / 3;
    };
    for (let rep = 0; rep < 5; rep++) for (const [k, f] of Object.entries(ways)) ms[k].push(time(f));
    const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
    const row = {
      ...c,
      ms_xT_dy: med(ms['xT·dy']),
      ms_dyT_x_T: med(ms['(dyT·x)T']),
      range_xT_dy: [Math.min(...ms['xT·dy']), Math.max(...ms['xT·dy'])],
      range_dyT_x_T: [Math.min(...ms['(dyT·x)T']), Math.max(...ms['(dyT·x)T'])],
    };
    rows.push(row);
    console.log(
      `${c.what}, dw [${c.din}, ${c.dout}] over ${c.tokens} tokens: xᵀ·dy ${row.ms_xT_dy.toFixed(1)} ms, (dyᵀ·x)ᵀ ${row.ms_dyT_x_T.toFixed(1)} ms, ratio ${(row.ms_xT_dy / row.ms_dyT_x_T).toFixed(2)}`,
    );
    tf.dispose([x0, dy0]);
  }
  if (ji > 0) {
    const out = {
      command: 'npx tsx scripts/bench-weight-grad.ts',
      backend: info.detail,
      machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`,
      date: new Date().toISOString(),
      rows,
    };
    fs.writeFileSync(process.argv[ji + 1], JSON.stringify(out, null, 2) + '\n');
  }
})();
