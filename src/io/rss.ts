// The process's memory high-water mark, for benchmarks and the reproduction's per-run record.
import * as fs from 'node:fs';

/** The process's peak resident set (VmHWM, Linux) in MB, or the current RSS where /proc is not available. */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Math.round(Number(m[1]) / 1024);
  } catch {
    /* not Linux */
  }
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

/** The line a job's process writes to stderr at exit when INTROLLM_REPORT_PEAK_RSS is set (runJobs reads it back). */
export const PEAK_RSS_LINE = /^introllm: peak RSS (\d+) MB$/;

export function peakRssLine(): string {
  return `introllm: peak RSS ${peakRssMb()} MB`;
}
