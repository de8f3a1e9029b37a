// The PyTorch peer of `introllm bench --peer torch` (and of every case of `bench --suite --peer torch`):
// scripts/bench_torch.py run by Debian's python3-torch on OpenBLAS. Debian's torch links the generic libblas.so.3,
// which is the reference netlib BLAS unless the system's alternative says otherwise (a 1024² matMul at a few GFLOP/s
// on two cores, against about a hundred and more with OpenBLAS), so a peer on it is no fair measure of PyTorch. The
// peer process alone is pointed at Debian's libopenblas0-pthread through LD_LIBRARY_PATH (the system's BLAS default
// is left as it is; scripts/setup-bench-peer.sh installs both packages), reports which BLAS it actually mapped and
// how many threads it ran, and a peer that did not get OpenBLAS is refused.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';

/** Debian's multiarch triplet of this machine (the folder libopenblas0-pthread installs into). */
function multiarch(): string {
  return process.arch === 'arm64' ? 'aarch64-linux-gnu' : process.arch === 'ppc64' ? 'powerpc64le-linux-gnu' : 'x86_64-linux-gnu';
}

/** Where Debian's libopenblas0-pthread puts its libblas.so.3 (`dpkg -L libopenblas0-pthread`). */
export const OPENBLAS_DIR = `/usr/lib/${multiarch()}/openblas-pthread`;

export interface TorchPeerOptions {
  batch: number;
  prompt: number;
  newTokens: number;
  trainSteps: number;
  skipFull: boolean;
  /** Threads of the peer: torch's intra-op threads and OpenBLAS's own pool. */
  threads: number;
  /** The Python that runs the peer (bench --peer-python); default Debian's /usr/bin/python3. */
  python?: string;
}

/** What the peer process reports about its BLAS (bench_torch.py's `blas` field). */
export interface PeerBlas {
  /** 'openblas', 'reference' (netlib), 'mkl' or 'unknown': from the libraries mapped into the peer process. */
  kind: string;
  /** The BLAS/LAPACK shared objects mapped into the peer (/proc/self/maps). */
  libraries: string[];
  /** openblas_get_config(), when OpenBLAS is loaded. */
  openblas_config?: string | null;
  /** openblas_get_num_threads(), when OpenBLAS is loaded. */
  openblas_threads?: number | null;
  /** torch.get_num_threads(). */
  torch_threads: number;
  /** A 1024² float32 matMul in the peer, GFLOP/s (a check that the BLAS is the fast one, not a benchmark). */
  matmul_1024_gflops: number;
}

/**
 * The peer's environment: the caller's, with the OpenBLAS folder first on LD_LIBRARY_PATH (the dynamic loader
 * resolves torch's libblas.so.3 and liblapack.so.3 there before the system's alternatives) and OpenBLAS's and
 * OpenMP's thread counts set to `threads`.
 */
export function torchPeerEnv(threads: number, base: NodeJS.ProcessEnv = process.env, blasDir = OPENBLAS_DIR): NodeJS.ProcessEnv {
  const ld = base.LD_LIBRARY_PATH ? `${blasDir}:${base.LD_LIBRARY_PATH}` : blasDir;
  return { ...base, LD_LIBRARY_PATH: ld, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
}

type Spawn = (cmd: string, args: string[], o: { encoding: 'utf8'; maxBuffer: number; env: NodeJS.ProcessEnv }) =>
  { status: number | null; stdout: string; stderr: string; error?: Error };

const SETUP = 'bash scripts/setup-bench-peer.sh';

/**
 * Runs the peer on the HF folder `dir` and returns its JSON line. Refuses (KitError) when the OpenBLAS folder is
 * missing, when the peer fails, or when the peer did not load OpenBLAS or ran another number of threads than asked.
 */
export function runTorchPeer(dir: string, o: TorchPeerOptions,
  deps: { spawn?: Spawn; exists?: (p: string) => boolean; env?: NodeJS.ProcessEnv; blasDir?: string } = {}): Record<string, unknown> {
  const env = deps.env ?? process.env;
  const blasDir = deps.blasDir ?? OPENBLAS_DIR;
  const exists = deps.exists ?? fs.existsSync;
  const spawn = deps.spawn ?? (spawnSync as unknown as Spawn);
  const python = o.python ?? '/usr/bin/python3';
  if (!exists(path.join(blasDir, 'libblas.so.3'))) {
    throw new KitError(`--peer torch: ${blasDir}/libblas.so.3 not found: the PyTorch peer runs on OpenBLAS (Debian's libopenblas0-pthread); install it with \`${SETUP}\``);
  }
  const script = path.join(__dirname, '..', '..', 'scripts', 'bench_torch.py');
  const args = [script, '--model', dir, '--batch', String(o.batch), '--prompt', String(o.prompt), '--new', String(o.newTokens),
    '--train-steps', String(o.trainSteps), '--threads', String(o.threads), ...(o.skipFull ? ['--skip-full'] : [])];
  const r = spawn(python, args, { encoding: 'utf8', maxBuffer: 1 << 24, env: torchPeerEnv(o.threads, env, blasDir) });
  if (r.status !== 0) {
    throw new KitError(`--peer torch: ${python} ${path.basename(script)} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}. Install Debian's python3-torch and libopenblas0-pthread (\`${SETUP}\`) or name another Python with --peer-python.`);
  }
  const peer = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  checkPeerBlas(peer, o.threads);
  return peer;
}

/** Throws unless the peer's report says it ran on OpenBLAS with `threads` threads. */
export function checkPeerBlas(peer: Record<string, unknown>, threads: number): void {
  const blas = peer.blas as PeerBlas | undefined;
  if (!blas) throw new KitError('--peer torch: the peer did not report its BLAS (scripts/bench_torch.py too old?); refusing a ratio against an unknown BLAS');
  if (blas.kind !== 'openblas') {
    throw new KitError(`--peer torch: the peer loaded ${blas.kind} BLAS (${blas.libraries.join(', ') || 'no BLAS library mapped'}; 1024² matMul ${blas.matmul_1024_gflops} GFLOP/s), not OpenBLAS: refusing the run. Install libopenblas0-pthread (\`${SETUP}\`).`);
  }
  if (blas.torch_threads !== threads || (blas.openblas_threads != null && blas.openblas_threads !== threads)) {
    throw new KitError(`--peer torch: the peer ran torch on ${blas.torch_threads} and OpenBLAS on ${blas.openblas_threads} threads, asked for ${threads}: refusing the run`);
  }
}
