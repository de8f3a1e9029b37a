// Build-time only (scripts/build-gemm.ts and the test that checks the committed binary): the text → binary step,
// through the wabt package (a dev dependency). The kit itself loads gemm-binary.ts and never imports this file.
import { gemmWat } from './gemm-wat';

export async function assembleGemm(): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const mod = wabt.parseWat('gemm.wat', gemmWat(), { simd: true });
  try {
    mod.validate();
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}
