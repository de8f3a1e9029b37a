import { describe, expect, it } from 'vitest';
import { KitError } from '../../src/errors';
import { checkPeerBlas, runTorchPeer, torchPeerEnv } from '../../src/bench/torch-peer';

const OPTS = { batch: 2, prompt: 3, newTokens: 4, trainSteps: 1, skipFull: true, threads: 2 };
const DIR = '/usr/lib/x86_64-linux-gnu/openblas-pthread';

function blas(kind: string, o: Partial<{ torch_threads: number; openblas_threads: number | null }> = {}) {
  return {
    kind, libraries: kind === 'openblas' ? [`${DIR}/libblas.so.3`] : ['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0'],
    openblas_threads: kind === 'openblas' ? 2 : null, torch_threads: 2, matmul_1024_gflops: 1, ...o,
  };
}

/** A spawn that records its call and answers like bench_torch.py with the given `blas` report. */
function fakeSpawn(report: unknown, status = 0) {
  const calls: { cmd: string; args: string[]; env: NodeJS.ProcessEnv }[] = [];
  const spawn = (cmd: string, args: string[], o: { env: NodeJS.ProcessEnv }) => {
    calls.push({ cmd, args, env: o.env });
    return { status, stdout: `warming up\n${JSON.stringify({ decode_tokens_per_s: 10, blas: report })}\n`, stderr: status ? 'Traceback\nImportError: no torch' : '' };
  };
  return { spawn, calls };
}

describe('the PyTorch peer runs on OpenBLAS', () => {
  it('puts the OpenBLAS folder first on the peer\'s LD_LIBRARY_PATH and sets its thread counts, leaving the caller\'s environment alone', () => {
    const base = { PATH: '/usr/bin', LD_LIBRARY_PATH: '/opt/lib' };
    const env = torchPeerEnv(2, base, DIR);
    expect(env.LD_LIBRARY_PATH).toBe(`${DIR}:/opt/lib`);
    expect(env.OPENBLAS_NUM_THREADS).toBe('2');
    expect(env.OMP_NUM_THREADS).toBe('2');
    expect(env.PATH).toBe('/usr/bin');
    expect(base.LD_LIBRARY_PATH).toBe('/opt/lib');
    expect(torchPeerEnv(3, { PATH: '/usr/bin' }, DIR).LD_LIBRARY_PATH).toBe(DIR);
  });

  it('spawns bench_torch.py with that environment and returns its last JSON line when it reports OpenBLAS', () => {
    const { spawn, calls } = fakeSpawn(blas('openblas'));
    const peer = runTorchPeer('/models/x', OPTS, { spawn, exists: () => true, env: {}, blasDir: DIR });
    expect(peer.decode_tokens_per_s).toBe(10);
    expect(calls).toHaveLength(1);
    expect(calls[0].cmd).toBe('/usr/bin/python3');
    // --peer-python names another interpreter.
    runTorchPeer('/models/x', { ...OPTS, python: '/opt/py/bin/python3' }, { spawn, exists: () => true, env: {}, blasDir: DIR });
    expect(calls[1].cmd).toBe('/opt/py/bin/python3');
    expect(calls[0].args[0]).toMatch(/scripts[/\\]bench_torch\.py$/);
    expect(calls[0].args).toEqual(expect.arrayContaining(['--model', '/models/x', '--threads', '2', '--skip-full']));
    expect(calls[0].env.LD_LIBRARY_PATH?.split(':')[0]).toBe(DIR);
    expect(calls[0].env.OPENBLAS_NUM_THREADS).toBe('2');
  });

  it('refuses a peer that loaded the reference BLAS, naming the library it mapped', () => {
    const { spawn } = fakeSpawn(blas('reference'));
    expect(() => runTorchPeer('/m', OPTS, { spawn, exists: () => true, env: {}, blasDir: DIR })).toThrow(/reference BLAS.*blas\/libblas\.so\.3.*not OpenBLAS/);
  });

  it('refuses before spawning when libopenblas0-pthread is not installed', () => {
    const { spawn, calls } = fakeSpawn(blas('openblas'));
    expect(() => runTorchPeer('/m', OPTS, { spawn, exists: () => false, env: {}, blasDir: DIR })).toThrow(KitError);
    expect(() => runTorchPeer('/m', OPTS, { spawn, exists: () => false, env: {}, blasDir: DIR })).toThrow(/setup-bench-peer\.sh/);
    expect(calls).toHaveLength(0);
  });

  it('reports a failed peer with its stderr', () => {
    const { spawn } = fakeSpawn(blas('openblas'), 1);
    expect(() => runTorchPeer('/m', OPTS, { spawn, exists: () => true, env: {}, blasDir: DIR })).toThrow(/exit 1.*ImportError: no torch/);
  });

  it('refuses a report without a BLAS, or with other thread counts than asked', () => {
    expect(() => checkPeerBlas({}, 2)).toThrow(/did not report its BLAS/);
    expect(() => checkPeerBlas({ blas: blas('openblas', { torch_threads: 1 }) }, 2)).toThrow(/1 and OpenBLAS on 2 threads, asked for 2/);
    expect(() => checkPeerBlas({ blas: blas('openblas', { openblas_threads: 16 }) }, 2)).toThrow(/OpenBLAS on 16 threads/);
    expect(() => checkPeerBlas({ blas: blas('openblas') }, 2)).not.toThrow();
  });
});
