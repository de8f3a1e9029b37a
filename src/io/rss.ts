// The process's memory high-water mark, for benchmarks and the reproduction's per-run record.
import * as fs from 'node:fs';

/** VmHWM (Linux) in MB: the peak resident set since the process started or since the last resetHighWater; else RSS. */
function highWaterMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Math.round(Number(m[1]) / 1024);
  } catch {
    /* not Linux */
  }
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

/** The high-water marks already reset away (the process's peak is the largest of these and the current one). */
let folded = 0;
/** The phases under way, each with the largest high-water mark seen while it ran. */
const open = new Set<{ max: number }>();

/** Sets VmHWM back to the current RSS (Linux: "5" into /proc/self/clear_refs), folding the old mark in first. */
function resetHighWater(): void {
  const h = highWaterMb();
  folded = Math.max(folded, h);
  for (const p of open) p.max = Math.max(p.max, h);
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* not Linux, or not allowed: phases then report the process's peak so far */
  }
}

/** The process's peak resident set in MB (VmHWM on Linux, over every phase), or the current RSS elsewhere. */
export function peakRssMb(): number {
  return Math.max(folded, highWaterMb());
}

/**
 * Starts a phase (loading, a rollout, an update, evaluation): `end()` gives its wall time and the peak resident set
 * while it ran. Phases nest (a step's rollout inside training). Where the high-water mark cannot be reset, the peak is
 * the process's peak so far.
 */
export function startPhase(): { end(): { ms: number; peakRssMb: number } } {
  resetHighWater();
  const p = { max: 0 };
  open.add(p);
  const t0 = performance.now();
  return {
    end: () => {
      open.delete(p);
      return { ms: performance.now() - t0, peakRssMb: Math.max(p.max, highWaterMb()) };
    },
  };
}

/** The line a job's process writes to stderr at exit when INTROLLM_REPORT_PEAK_RSS is set (runJobs reads it back). */
export const PEAK_RSS_LINE = /^introllm: peak RSS (\d+) MB$/;

export function peakRssLine(): string {
  return `introllm: peak RSS ${peakRssMb()} MB`;
}
