// Where a study's runs execute. The study (src/experiments/reproduce.ts) makes the list of unfinished runs, each an
// `introllm` command line writing one run folder, and writes the summary from the run folders; a launcher only starts
// the runs and reports their state: here as child processes (`local`), as a Slurm job array (slurm.ts) or as a
// Kubernetes Indexed Job (k8s.ts). The runs' commands are the same on every launcher, so are their run folders.
import { KitError } from '../errors';
import { Job, runJobs } from './jobs';
import { K8sLauncher } from './k8s';
import { jobKey, shellQuote } from './launch-util';
import type { LauncherConfig, LauncherName } from './launch-config';
import { SlurmLauncher } from './slurm';

export interface LaunchOptions {
  /** The study folder (its launcher files go in <out>/slurm/ or <out>/k8s/). */
  out: string;
  /** Runs at a time (Slurm: the array's %N throttle; Kubernetes: the Job's parallelism); 0 = no limit. */
  width: number;
  /** A short name of the study for job names and headers (e.g. 'reproduce smoke'). */
  label: string;
  log: (line: string) => void;
}

/** One run that ended without its result. */
export interface RunFailure {
  name: string;
  /** e.g. 'exit code 1', 'CANCELLED', 'TIMEOUT'. */
  reason: string;
  /** The run's log file, where the launcher keeps one (Slurm). */
  log?: string;
  /** Its last lines. */
  tail: string[];
}

/** One run as the manifest records it. */
export interface RunRecord {
  name: string;
  code: number | null;
  seconds: number | null;
  peak_rss_mb: number | null;
  state?: string;
  log?: string;
}

export interface LaunchOutcome {
  /** Every run of the list has ended (finished or failed) in this invocation: the summary can be written. */
  settled: boolean;
  /** The runs still queued or running (a detached submission, a Job on a cluster, a dry run). */
  pending: string[];
  failed: RunFailure[];
  runs: RunRecord[];
  /** What the manifest's session records about the launch (e.g. the Slurm job ids). */
  session: Record<string, unknown>;
}

export interface Launcher {
  name: LauncherName;
  launch(jobs: Job[], o: LaunchOptions): Promise<LaunchOutcome>;
}

/** Today's launcher: child processes on this machine, `width` at a time; waits for all. */
export const localLauncher: Launcher = {
  name: 'local',
  async launch(jobs, o) {
    const results = await runJobs(jobs, o.width || jobs.length, o.log);
    return {
      settled: true,
      pending: [],
      failed: results.filter((r) => r.code !== 0).map((r) => ({ name: r.name, reason: `exit code ${r.code}`, tail: r.tail })),
      runs: results.map((r) => ({ name: r.name, code: r.code, seconds: r.ms / 1000, peak_rss_mb: r.peakRssMb })),
      session: {},
    };
  },
};

export interface LauncherChoice {
  name: LauncherName;
  config: LauncherConfig;
  /** Submit and return at once; the same command later reports the state and summarises when all runs are done. */
  detach: boolean;
  /** Print the array script or the manifest; submit nothing. */
  dryRun: boolean;
  /** Where a dry run's script or manifest goes. */
  print: (text: string) => void;
}

export function makeLauncher(c: LauncherChoice): Launcher {
  if (c.name === 'local') {
    if (c.detach || c.dryRun) {
      // Local runs are child processes of this command: there is nothing to detach from or to print.
      throw new KitError(
        `--${c.detach ? 'detach' : 'dry-run'} needs --launcher slurm or k8s (the local launcher runs the runs as child processes of this command)`,
      );
    }
    return localLauncher;
  }
  if (c.name === 'slurm') return new SlurmLauncher(c.config.slurm, c);
  return new K8sLauncher(c.config.k8s, c);
}

export { jobKey, shellQuote };
