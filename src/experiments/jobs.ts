// Runs `introllm` sub-commands as child processes, a few at a time: the reproduction's runs are independent, each
// TF.js backend in Node is single-threaded on CPU, and separate processes keep each run's memory to itself.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { parseProgressLine, PROGRESS_ENV, ProgressBoard, ProgressBoardOptions } from '../io/progress';
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

/**
 * Runs the jobs with at most `concurrency` at once; `log` gets one line per job start and end. While they run, a live
 * block shows each running job's progress (reported by the child on its stderr) and the overall ETA, redrawn on a
 * terminal, printed as plain lines every 30 s elsewhere (src/io/progress.ts); `o` sets the board's terminal (default:
 * stderr when it is one) and intervals.
 */
export async function runJobs(
  jobs: Job[],
  concurrency: number,
  log: (line: string) => void,
  o: Pick<ProgressBoardOptions, 'tty' | 'ttyEveryMs' | 'plainEveryMs'> = {},
): Promise<JobResult[]> {
  const results: JobResult[] = new Array(jobs.length);
  let next = 0;
  const width = Math.max(1, Math.min(concurrency, jobs.length));
  const board = new ProgressBoard({ ...o, log, total: jobs.length, width, noun: 'runs', timer: true });
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i];
      const t0 = performance.now();
      board.log(`[start] ${job.name}`);
      board.start(i, job.name);
      const tail: string[] = [];
      let peakRssMb: number | null = null;
      const code = await new Promise<number>((resolve) => {
        const env = { ...process.env, INTROLLM_REPORT_PEAK_RSS: '1', [PROGRESS_ENV]: '1' };
        const child = spawn(process.execPath, [BIN, ...job.args], { stdio: ['ignore', 'ignore', 'pipe'], env });
        let buf = '';
        child.stderr.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split(/\r|\n/);
          buf = lines.pop() ?? '';
          for (const line of lines.map((l) => l.trim())) {
            const peak = PEAK_RSS_LINE.exec(line);
            const report = peak ? null : parseProgressLine(line);
            if (peak) peakRssMb = Number(peak[1]);
            else if (report) board.report(i, report);
            else if (line) tail.push(line);
          }
          tail.splice(0, Math.max(0, tail.length - 8));
        });
        child.on('error', () => resolve(127));
        child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
      });
      results[i] = { name: job.name, code, ms: performance.now() - t0, tail, peakRssMb };
      board.end(i, code === 0);
      board.log(`[${code === 0 ? 'done' : `FAILED (${code})`}] ${job.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s · ${board.overall()}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    board.close();
  }
  return results;
}
