// The manifest written next to every reproduction's results: what ran, on what, from which commit, for how long.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

function version(pkg: string): string | null {
  try {
    const file = require.resolve(`${pkg}/package.json`, { paths: [path.join(__dirname, '..', '..')] });
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return null;
  }
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * The commit the code ran from, and whether tracked files outside results/ and notebooks/ differed from it (results
 * and notebook outputs being rewritten does not make the code dirty). Nulls outside a git checkout.
 */
export function gitState(): { commit: string | null; dirty: boolean | null } {
  const status = git(['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)results', ':(exclude)notebooks']);
  return { commit: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.length > 0 };
}

export function manifest(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...gitState(),
    node: process.version,
    packages: Object.fromEntries(
      [
        '@tensorflow/tfjs',
        '@tensorflow/tfjs-backend-wasm',
        '@tensorflow/tfjs-node',
        '@tensorflow/tfjs-node-gpu',
        '@huggingface/transformers',
        'mathjs',
        'plotly.js-dist-min',
      ].map((p) => [p, version(p)]),
    ),
    machine: {
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? null,
      memory_gb: Math.round(os.totalmem() / 2 ** 30),
    },
    ...extra,
  };
}
