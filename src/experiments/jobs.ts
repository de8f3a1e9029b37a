// Runs `introllm` sub-commands as child processes, a few at a time: the reproduction's runs are independent, each
// TF.js backend in Node is single-threaded on CPU, and separate processes keep each run's memory to itself.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { PEAK_RSS_LINE } from '../io/rss';

export interface Job {
  name: string;
  args: string[];
  /** Whether the job's result is there (its run folder's eval.json, …): how a launcher that cannot see the process's
   *  exit code (a Slurm array task, a Kubernetes index) tells a finished run from one that died. */
  done?: () => boolean;
}

export interface JobResult {
  name: string;
  code: number;
  ms: number;
  /** The last lines of the job's stderr (for error reports). */
  tail: string[];
  /** The job process's peak resident set in MB (its VmHWM at exit), or null where it reported none. */
  peakRssMb: number | null;
}

const BIN = path.join(__dirname, '..', '..', 'bin', 'introllm.js');

/** Runs the jobs with at most `concurrency` at once; `log` gets one line per job start and end. */
export async function runJobs(jobs: Job[], concurrency: number, log: (line: string) => void): Promise<JobResult[]> {
  const results: JobResult[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  let doneMs = 0;
  const width = Math.max(1, Math.min(concurrency, jobs.length));
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i];
      const t0 = performance.now();
      log(`[start] ${job.name}`);
      const tail: string[] = [];
      let peakRssMb: number | null = null;
      const code = await new Promise<number>((resolve) => {
        const env = { ...process.env, INTROLLM_REPORT_PEAK_RSS: '1' };
        const child = spawn(process.execPath, [BIN, ...job.args], { stdio: ['ignore', 'ignore', 'pipe'], env });
        let buf = '';
        child.stderr.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split(/\r|\n/);
          buf = lines.pop() ?? '';
          for (const line of lines.map((l) => l.trim())) {
            const peak = PEAK_RSS_LINE.exec(line);
            if (peak) peakRssMb = Number(peak[1]);
            else if (line) tail.push(line);
          }
          tail.splice(0, Math.max(0, tail.length - 8));
        });
        child.on('error', () => resolve(127));
        child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
      });
      results[i] = { name: job.name, code, ms: performance.now() - t0, tail, peakRssMb };
      done++;
      doneMs += performance.now() - t0;
      log(`[${code === 0 ? 'done' : `FAILED (${code})`}] ${job.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s · ${progressLine(done, jobs.length, doneMs / done, width)}`);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/**
 * "k/n runs done, ETA m:ss": the remaining runs at the mean time of the finished ones, `width` at a time (the runs
 * still in flight count as a full run each, so the ETA errs long rather than short).
 */
export function progressLine(done: number, total: number, meanMs: number, width: number): string {
  const left = total - done;
  if (left === 0) return `${done}/${total} runs done`;
  const s = Math.round((Math.ceil(left / width) * meanMs) / 1000);
  const eta = s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return `${done}/${total} runs done, ETA ${eta}`;
}
