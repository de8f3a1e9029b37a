// `--launcher slurm`: a study's unfinished runs as one Slurm job array, one array task per run folder.
//
// Each submission is an sbatch script <out>/slurm/array-<n>.sh (the runs' command lines in a `case` on
// SLURM_ARRAY_TASK_ID, `--array` throttled to --jobs tasks at a time), each task's log <out>/slurm/logs/<job>_<task>.log,
// and <out>/slurm/submissions.json the ledger of what was submitted (job id, task index → run), written atomically.
// Running the command again looks up every earlier task still queued or running (squeue, else sacct) and submits only
// the runs that are neither finished (their run folder says so) nor in flight: a cancelled, preempted, failed or
// timed-out task's run resumes from its run folder's last checkpoint. State is never kept anywhere but the run
// folders, the ledger and Slurm itself, so the command may be killed and rerun at any point.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { PEAK_RSS_LINE } from '../io/rss';
import type { Job } from './jobs';
import type { SlurmConfig } from './launch-config';
import type { LaunchOptions, LaunchOutcome, Launcher, RunFailure, RunRecord } from './launcher';
import { jobKey, shellQuote } from './launch-util';

/** This kit's CLI: bin/introllm.js of the checkout, else the script this process runs (the GPU bundle's introllm.cjs). */
function thisKit(): string {
  const bin = path.join(__dirname, '..', '..', 'bin', 'introllm.js');
  return fs.existsSync(bin) || !process.argv[1] ? bin : path.resolve(process.argv[1]);
}

/** Slurm job states in which a task may still run (it is not resubmitted while in one of them). */
const ACTIVE = new Set([
  'PENDING',
  'RUNNING',
  'CONFIGURING',
  'COMPLETING',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESIZING',
  'SIGNALING',
  'STAGE_OUT',
  'SUSPENDED',
]);

export interface SubmittedTask {
  index: number;
  name: string;
  /** The run's folder (its --out), which decides whether it finished. */
  key: string;
}

export interface Submission {
  job_id: string;
  /** The array's job name: with the id, it tells this job from another that got the same id (a cluster whose job
   *  ids started again). */
  name?: string;
  script: string;
  submitted: string;
  tasks: SubmittedTask[];
}

/** What a task line of the script runs: the kit's CLI with the job's arguments, under `node`. */
export interface SlurmScriptOptions {
  label: string;
  width: number;
  logDir: string;
  cwd: string;
  node: string;
  kit: string;
}

/** The sbatch array script of `jobs` (task i runs jobs[i]). Paths are absolute: the script runs on another host. */
export function slurmScript(jobs: Job[], cfg: SlurmConfig, o: SlurmScriptOptions): string {
  const n = jobs.length;
  const throttle = o.width > 0 && o.width < n ? `%${o.width}` : '';
  const sb = (line: string) => `#SBATCH ${line}`;
  const lines = [
    '#!/bin/bash',
    `# ${o.label}: ${n} run${n === 1 ? '' : 's'} of the IntroLLM kit as one Slurm job array, one task per run folder (written by`,
    '# --launcher slurm). Running the same command again submits only the runs that are not finished; a task that was',
    "# cancelled, preempted or timed out resumes from its run folder's last checkpoint.",
    sb(`--job-name=${jobName(o.label)}`),
    sb(`--array=0-${n - 1}${throttle}`),
    sb(`--output=${slurmPath(path.join(o.logDir, '%A_%a.log'))}`),
    sb(`--chdir=${o.cwd}`),
    sb('--ntasks=1'),
    sb(`--cpus-per-task=${cfg.cpus}`),
    ...(cfg.partition ? [sb(`--partition=${cfg.partition}`)] : []),
    ...(cfg.time ? [sb(`--time=${cfg.time}`)] : []),
    ...(cfg.mem ? [sb(`--mem=${cfg.mem}`)] : []),
    ...(cfg.gpus > 0 ? [sb(`--gpus-per-task=${cfg.gpus}`)] : []),
    ...(cfg.account ? [sb(`--account=${cfg.account}`)] : []),
    ...cfg.extra.map(sb),
    'set -u',
    ...cfg.setup,
    'export INTROLLM_REPORT_PEAK_RSS=1',
    'case "$SLURM_ARRAY_TASK_ID" in',
    ...jobs.map((j, i) => `  ${i}) run=${shellQuote(j.name)}; set -- ${j.args.map(shellQuote).join(' ')} ;;`),
    '  *) echo "introllm: no run for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;',
    'esac',
    'echo "introllm: $run (array task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID) on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >&2',
    `exec ${shellQuote(o.node)} ${shellQuote(o.kit)} "$@"`,
    '',
  ];
  return lines.join('\n');
}

/** A job name Slurm shows in squeue: 'introllm-' and the study's label as one word. */
export function jobName(label: string): string {
  return `introllm-${label.replace(/[^A-Za-z0-9_.-]+/g, '-')}`.slice(0, 64);
}

/** sbatch expands %-patterns in --output: a literal % in a folder name is written %%. */
function slurmPath(p: string): string {
  const dir = path.dirname(p).replace(/%/g, '%%');
  return path.join(dir, path.basename(p));
}

/** A Slurm command; a missing one is a KitError naming it. */
function slurmCommand(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KitError(
        `--launcher slurm: '${cmd}' is not on PATH (run the command on a Slurm login node, or use --launcher local); nothing was submitted and no run folder was changed`,
      );
    }
    throw new KitError(`--launcher slurm: ${cmd} could not run (${r.error.message})`);
  }
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The state of every task of `jobs` (id and job name) that Slurm still knows, keyed '<job>_<task>': squeue, then sacct
 * where the cluster keeps accounting. A task of the same id under another name is another job, and not reported.
 */
export function taskStates(jobs: { id: string; name?: string }[]): Map<string, string> {
  const states = new Map<string, string>();
  if (jobs.length === 0) return states;
  const names = new Map(jobs.map((j) => [j.id, j.name]));
  const mine = (id: string, name: string) => names.has(id) && (names.get(id) === undefined || names.get(id) === name);
  // --states=all keeps finished tasks listed for a while (MinJobAge); -r lists pending array tasks one by one.
  const q = slurmCommand('squeue', ['--me', '-h', '-r', '--states=all', '-o', '%i|%T|%j']);
  if (q.status !== 0) throw new KitError(`--launcher slurm: squeue failed: ${firstLine(q.stderr)}`);
  for (const line of q.stdout.split('\n')) {
    const m = /^(\d+)_(\d+)\|(\S+)\|(.*)$/.exec(line.trim());
    if (m && mine(m[1], m[4])) states.set(`${m[1]}_${m[2]}`, m[3]);
  }
  // Tasks that left squeue: the accounting database, when the cluster keeps one (a single-node test cluster does not).
  const s = spawnSync('sacct', ['-n', '-P', '-X', '-j', [...names.keys()].join(','), '-o', 'JobID,State,JobName'], { encoding: 'utf8' });
  if (!s.error && s.status === 0) {
    for (const line of s.stdout.split('\n')) {
      // sacct writes 'CANCELLED by 0': the first word is the state.
      const m = /^(\d+)_(\d+)\|(\S+)[^|]*\|(.*)$/.exec(line.trim());
      if (m && mine(m[1], m[4]) && !states.has(`${m[1]}_${m[2]}`)) states.set(`${m[1]}_${m[2]}`, m[3]);
    }
  }
  return states;
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join('; ') || '(no message)'
  );
}

/** The last lines of a task's log (the kit's peak-RSS line left out), and that peak in MB. */
function logTail(file: string): { tail: string[]; peakRssMb: number | null } {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { tail: [`(no log at ${file})`], peakRssMb: null };
  }
  let peakRssMb: number | null = null;
  const lines = text
    .split(/\r|\n/)
    .map((l) => l.trim())
    .filter((l) => {
      const m = PEAK_RSS_LINE.exec(l);
      if (m) peakRssMb = Number(m[1]);
      return l !== '' && !m;
    });
  return { tail: lines.slice(-8), peakRssMb };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Tracked {
  job: Job;
  jobId: string;
  name?: string;
  index: number;
  log: string;
  state: string;
  ended: boolean;
}

export class SlurmLauncher implements Launcher {
  readonly name = 'slurm' as const;
  constructor(
    private cfg: SlurmConfig,
    private opts: { detach: boolean; dryRun: boolean; print: (text: string) => void },
  ) {}

  async launch(jobs: Job[], o: LaunchOptions): Promise<LaunchOutcome> {
    const dir = path.resolve(o.out, 'slurm');
    const ledgerFile = path.join(dir, 'submissions.json');
    const ledger = readLedger(ledgerFile);
    const logDir = path.join(dir, 'logs');
    const logOf = (jobId: string, index: number) => path.join(logDir, `${jobId}_${index}.log`);

    // Each unfinished run's latest task in the ledger, and whether Slurm still has it queued or running.
    const latest = new Map<string, { sub: Submission; task: SubmittedTask }>();
    for (const sub of ledger) for (const task of sub.tasks) latest.set(task.key, { sub, task });
    const wanted = jobs.map((job) => ({ job, prev: latest.get(jobKey(job)) }));
    const earlier = [
      ...new Map(wanted.flatMap((w) => (w.prev ? [[w.prev.sub.job_id, { id: w.prev.sub.job_id, name: w.prev.sub.name }] as const] : []))).values(),
    ];
    // A dry run shows what a submission would be now; it may run where Slurm is not (then every unfinished run).
    let states = new Map<string, string>();
    try {
      if (earlier.length) states = taskStates(earlier);
    } catch (e) {
      if (!this.opts.dryRun) throw e;
    }
    const tracked: Tracked[] = [];
    const toSubmit: Job[] = [];
    for (const { job, prev } of wanted) {
      const state = prev ? states.get(`${prev.sub.job_id}_${prev.task.index}`) : undefined;
      if (prev && state && ACTIVE.has(state)) {
        tracked.push({
          job,
          jobId: prev.sub.job_id,
          name: prev.sub.name,
          index: prev.task.index,
          log: logOf(prev.sub.job_id, prev.task.index),
          state,
          ended: false,
        });
      } else {
        if (prev)
          o.log(
            `${job.name}: not finished after Slurm task ${prev.sub.job_id}_${prev.task.index} (${state ?? 'ended'}; log ${logOf(prev.sub.job_id, prev.task.index)}); submitting it again, it resumes from its last checkpoint`,
          );
        toSubmit.push(job);
      }
    }
    const session: Record<string, unknown> = { launcher: 'slurm', in_flight: tracked.map((t) => `${t.jobId}_${t.index}`) };

    if (toSubmit.length > 0) {
      const node = this.cfg.node || process.execPath;
      const kit = this.cfg.kit || thisKit();
      const script = slurmScript(toSubmit, this.cfg, { label: o.label, width: o.width, logDir, cwd: process.cwd(), node, kit });
      if (this.opts.dryRun) {
        this.opts.print(script);
        o.log(`--dry-run: the array script above (${toSubmit.length} task${toSubmit.length === 1 ? '' : 's'}) was not submitted`);
        return { settled: false, pending: toSubmit.map((j) => j.name), failed: [], runs: [], session: { ...session, dry_run: true } };
      }
      const file = path.join(dir, `array-${ledger.length + 1}.sh`);
      const hadLogs = fs.existsSync(logDir);
      writeFileAtomic(file, script);
      fs.mkdirSync(logDir, { recursive: true }); // before sbatch: a task may start at once, and Slurm does not make it
      // A refused submission leaves the study folder as it was.
      const undo = () => {
        fs.rmSync(file, { force: true });
        if (!hadLogs) fs.rmSync(logDir, { recursive: true, force: true });
      };
      let r: { status: number; stdout: string; stderr: string };
      try {
        r = slurmCommand('sbatch', ['--parsable', file]);
      } catch (e) {
        undo();
        throw e;
      }
      const jobId = /^(\d+)/.exec(r.stdout.trim())?.[1];
      if (r.status !== 0 || !jobId) {
        undo();
        const why = firstLine(r.stderr);
        const hint = /partition|account|time limit|memory|gres|gpu|qos/i.test(why) ? ' (see --partition, --account, --time, --mem, --gpus, --sbatch)' : '';
        throw new KitError(`--launcher slurm: sbatch refused the array script (${why}); nothing was submitted and no run folder was changed${hint}`);
      }
      const sub: Submission = {
        job_id: jobId,
        name: jobName(o.label),
        script: file,
        submitted: new Date().toISOString(),
        tasks: toSubmit.map((j, i) => ({ index: i, name: j.name, key: jobKey(j) })),
      };
      writeJsonAtomic(ledgerFile, [...ledger, sub]);
      o.log(
        `submitted Slurm job array ${jobId}: ${toSubmit.length} task${toSubmit.length === 1 ? '' : 's'}${o.width > 0 && o.width < toSubmit.length ? `, ${o.width} at a time` : ''} (${file}; logs ${logDir}/${jobId}_<task>.log)`,
      );
      session.job_id = jobId;
      toSubmit.forEach((job, i) => tracked.push({ job, jobId, name: sub.name, index: i, log: logOf(jobId, i), state: 'PENDING', ended: false }));
    }
    if (tracked.length === 0) return { settled: true, pending: [], failed: [], runs: [], session };

    if (this.opts.detach) {
      const count = new Map<string, number>();
      for (const t of tracked) count.set(t.state, (count.get(t.state) ?? 0) + 1);
      o.log(
        `--detach: ${[...count].map(([s, c]) => `${c} ${s.toLowerCase()}`).join(', ')}; run the same command again to see their state, resubmit what did not finish and summarise when all are done`,
      );
      return { settled: false, pending: tracked.map((t) => t.job.name), failed: [], runs: [], session };
    }

    // Wait: look at every task until all have left the queue, then judge each by its run folder.
    const t0 = performance.now();
    const failed: RunFailure[] = [];
    const runs: RunRecord[] = [];
    let misses = 0;
    for (;;) {
      let now: Map<string, string>;
      try {
        now = taskStates([...new Map(tracked.map((t) => [t.jobId, { id: t.jobId, name: t.name }])).values()]);
        misses = 0;
      } catch (e) {
        // A controller restarting or busy: look again, and give up (the tasks go on) only after several misses.
        if (++misses >= 5) throw new KitError(`${(e as Error).message}; the submitted tasks go on: run the same command again to follow them`);
        o.log(`${(e as Error).message}; trying again in ${this.cfg.pollSeconds} s`);
        await sleep(this.cfg.pollSeconds * 1000);
        continue;
      }
      for (const t of tracked.filter((x) => !x.ended)) {
        const s = now.get(`${t.jobId}_${t.index}`);
        if (s && ACTIVE.has(s)) {
          if (s !== t.state) o.log(`[${s.toLowerCase()}] ${t.job.name} (Slurm task ${t.jobId}_${t.index})`);
          t.state = s;
          continue;
        }
        t.ended = true;
        t.state = s ?? 'ENDED';
        const { tail, peakRssMb } = logTail(t.log);
        const ok = t.job.done ? t.job.done() : t.state === 'COMPLETED';
        runs.push({ name: t.job.name, code: ok ? 0 : null, seconds: (performance.now() - t0) / 1000, peak_rss_mb: peakRssMb, state: t.state, log: t.log });
        if (ok) {
          o.log(`[done] ${t.job.name} (Slurm task ${t.jobId}_${t.index}) · ${tracked.filter((x) => x.ended).length}/${tracked.length} tasks ended`);
        } else {
          failed.push({ name: t.job.name, reason: `Slurm state ${t.state}`, log: t.log, tail });
          o.log(`[FAILED (${t.state})] ${t.job.name} (Slurm task ${t.jobId}_${t.index}; log ${t.log})`);
        }
      }
      if (tracked.every((t) => t.ended)) break;
      await sleep(this.cfg.pollSeconds * 1000);
    }
    return { settled: true, pending: [], failed, runs, session };
  }
}

function readLedger(file: string): Submission[] {
  if (!fs.existsSync(file)) return [];
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!Array.isArray(v)) throw new Error('not an array');
    return v as Submission[];
  } catch (e) {
    throw new KitError(
      `${file}: the Slurm submission ledger cannot be read (${(e as Error).message.split('\n')[0]}); move it away to submit every unfinished run afresh`,
    );
  }
}
