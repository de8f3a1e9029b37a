// Many small dispatches in one synchronous loop on the chosen backend, as the kit's decoding loops do; prints one JSON
// line {backend, dispatches, value, ms}. On webgpu every dispatch needs a bind group that Dawn frees only once the event
// loop turns: tests/webgpu/ runs this on lavapipe, where each live bind group costs a memory mapping (limit 65530).
//
//   node -r tsx/cjs scripts/webgpu-soak.ts --backend webgpu [--dispatches 70000]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { intFlag, parseFlags } from '../src/commands/args';

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), { backend: { type: 'string' }, dispatches: { type: 'string' } });
  const backend = await initBackend(f.backend as string | undefined);
  const n = intFlag(f, 'dispatches', 70000);
  const t0 = performance.now();
  let x = tf.zeros([64, 64]); // above WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: stays on the GPU
  for (let i = 0; i < n; i++) {
    const y = tf.add(x, 1);
    x.dispose();
    x = y;
    if (i % 1000 === 999) x.dataSync(); // a host read now and then, like sampling
  }
  const value = x.dataSync()[0];
  process.stdout.write(JSON.stringify({ backend: backend.name, dispatches: n, value, ms: Math.round(performance.now() - t0) }) + '\n');
}

main().catch((e) => {
  console.error(`webgpu-soak: ${(e as Error).message}`);
  process.exitCode = 1;
});
