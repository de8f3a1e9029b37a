// Small helpers the launchers share (src/experiments/launcher.ts and the cluster launchers it picks among), kept apart
// so that the cluster launchers do not import the module that imports them.
import type { Job } from './jobs';

/** The run folder (or evaluation folder) a job writes: its `--out`; the key under which launchers track it. */
export function jobKey(job: Job): string {
  const i = job.args.indexOf('--out');
  return i >= 0 && i + 1 < job.args.length ? job.args[i + 1] : job.name;
}

/** A string as one word of POSIX shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
