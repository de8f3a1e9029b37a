// Build-time only (scripts/build-gemm.ts and the tests that check the committed binaries): the text → binary step,
// through the wabt package (a dev dependency). The kit itself loads gemm-binary.ts and fused-binary.ts and never
// imports this file.
import { fusedWat } from './fused-wat';
import { gemmWat } from './gemm-wat';

/** The binary of WebAssembly text `wat` with SIMD (and `threads`: shared-memory imports). */
async function assemble(name: string, wat: string, threads: boolean): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const features = { simd: true, threads };
  const mod = wabt.parseWat(name, wat, features);
  try {
    // validate() checks against its own feature set, default without threads (wabt's types omit the argument).
    (mod as unknown as { validate(f: typeof features): void }).validate(features);
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

/** The matMul module's binary; `shared`: the build that imports a shared memory (the worker threads'). */
export function assembleGemm(shared = false): Promise<Uint8Array> {
  return assemble('gemm.wat', gemmWat(shared), shared);
}

/** The fused elementwise kernels' binary (fused-wat.ts). */
export function assembleFused(): Promise<Uint8Array> {
  return assemble('fused.wat', fusedWat(), false);
}
