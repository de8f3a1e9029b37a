// Build-time only (scripts/build-gemm.ts and the test that checks the committed binary): the text → binary step,
// through the wabt package (a dev dependency). The kit itself loads gemm-binary.ts and never imports this file.
import { fusedWat } from './fused-wat';
import { gemmWat } from './gemm-wat';

/** The module's binary; `shared`: the build that imports a shared memory (the worker threads'). */
export async function assembleGemm(shared = false): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const features = { simd: true, threads: shared };
  const mod = wabt.parseWat('gemm.wat', gemmWat(shared), features);
  try {
    // validate() checks against its own feature set, default without threads (wabt's types omit the argument).
    (mod as unknown as { validate(f: typeof features): void }).validate(features);
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

/** The fused elementwise kernels' binary (fused-wat.ts). */
export async function assembleFused(): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const features = { simd: true };
  const mod = wabt.parseWat('fused.wat', fusedWat(), features);
  try {
    (mod as unknown as { validate(f: typeof features): void }).validate(features);
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}
