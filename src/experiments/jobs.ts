// Runs `introllm` sub-commands as child processes, a few at a time: the reproduction's runs are independent, each
// TF.js backend in Node is single-threaded on CPU, and separate processes keep each run's memory to itself.
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export interface Job {
  name: string;
  args: string[];
}

export interface JobResult {
  name: string;
  code: number;
  ms: number;
  /** The last lines of the job's stderr (for error reports). */
  tail: string[];
}

const BIN = path.join(__dirname, '..', '..', 'bin', 'introllm.js');

/** Runs the jobs with at most `concurrency` at once; `log` gets one line per job start and end. */
export async function runJobs(jobs: Job[], concurrency: number, log: (line: string) => void): Promise<JobResult[]> {
  const results: JobResult[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i];
      const t0 = performance.now();
      log(`[start] ${job.name}`);
      const tail: string[] = [];
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [BIN, ...job.args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let buf = '';
        child.stderr.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split(/\r|\n/);
          buf = lines.pop() ?? '';
          for (const l of lines) if (l.trim()) tail.push(l.trim());
          tail.splice(0, Math.max(0, tail.length - 8));
        });
        child.on('error', () => resolve(127));
        child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
      });
      results[i] = { name: job.name, code, ms: performance.now() - t0, tail };
      log(`[${code === 0 ? 'done' : `FAILED (${code})`}] ${job.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, jobs.length)) }, worker));
  return results;
}
