// Live progress of the long commands (reproduce, ablate, select, headroom, eval): one line per running job (its phase,
// e.g. training steps or evaluated problems, and its ETA) and one overall line (jobs done, running and queued, and
// the ETA of the whole command).
//
// How a child run reports to its parent. runJobs (src/experiments/jobs.ts) starts each run with INTROLLM_PROGRESS=1;
// a child `introllm train` or `introllm eval` then writes lines such as
//   introllm-progress {"phase":"train","done":12,"total":40,"unit":"steps"}
// to its stderr (reportProgress), at its start and after every step or evaluation chunk. The parent already reads
// the child's stderr (for the error tail and the peak-RSS line) and takes these lines out. This is the simplest
// robust channel: no file to poll, write atomically or clean up after a kill; one write() per line (a pipe does
// not interleave writes under PIPE_BUF); the same for every command; and a user running `introllm train` by hand
// never sees the lines (the variable is unset there).
//
// How it is shown. On a terminal (stderr a TTY, TERM not 'dumb') the block of lines is redrawn in place about once a
// second: the cursor goes up over the previous block, clears to the end of the screen and writes the new block; a log
// line (a job's start or end) clears the block, is printed and the block is drawn again below it. Lines are cut to the
// terminal's width so that none wraps (a wrapped line would throw the cursor arithmetic off), and the block to its
// height. Elsewhere (a log file, CI) the same lines are printed plainly, prefixed '[progress]', every 30 s, with no
// ANSI codes. Everything that decides what a line says is a pure function below; ProgressBoard holds the state and the
// clock.

/** One report of a job: where it is in its current phase. */
export interface ProgressReport {
  /** e.g. 'train', 'eval'. A new phase restarts the job's rate (its ETA) from the first report in it. */
  phase: string;
  done: number;
  total: number;
  /** What is counted: 'steps', 'problems'. */
  unit?: string;
  /** e.g. the method and seed being evaluated. */
  detail?: string;
}

/** A running job as the board sees it. */
export interface JobProgress {
  name: string;
  startMs: number;
  /** The latest report, and when it came. */
  report?: ProgressReport;
  reportMs?: number;
  /** When the current phase was first reported, and its count then (the baseline of its rate). */
  phaseStartMs?: number;
  phaseStartDone?: number;
  /** The phases the job has left, each with the time it ended (for ProgressHistory.afterPhaseS). */
  phaseEnds: Record<string, number>;
}

/** What finished jobs took: the basis of the ETA of the jobs not yet started and of the phases still to come. */
export interface ProgressHistory {
  /** Wall time (s) of each finished job. */
  durationsS: number[];
  /** Per phase: how long (s) each finished job still ran after it left that phase (a run's evaluation after 'train'). */
  afterPhaseS: Record<string, number[]>;
}

export const emptyHistory = (): ProgressHistory => ({ durationsS: [], afterPhaseS: {} });

const meanOf = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * Seconds left at a steady rate: `done` units took `elapsedS` seconds and `left` are to go; NaN while nothing is done.
 * The ETA of train's progress bar (src/train/progress.ts) and of every live line.
 */
export function rateEta(done: number, elapsedS: number, left: number): number {
  return done > 0 && elapsedS >= 0 ? (elapsedS / done) * Math.max(0, left) : NaN;
}

/** "m:ss" below an hour, "h:mm:ss" above; "?" when unknown (NaN, infinite or negative). */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  const mmss = (x: number) => `${Math.floor(x / 60)}:${String(x % 60).padStart(2, '0')}`;
  return t >= 3600 ? `${Math.floor(t / 3600)}:${mmss(t % 3600).padStart(5, '0')}` : mmss(t);
}

/**
 * The seconds a running job still needs: its current phase at the rate seen from that phase's first report to its
 * latest (counting down from there), plus what finished jobs took after the same phase (a training run's evaluation,
 * once one run has finished). Before its first measurable progress: the mean wall time of the finished jobs less its
 * elapsed time. NaN when nothing tells.
 */
export function jobRemainingS(job: JobProgress, nowMs: number, history: ProgressHistory): number {
  const r = job.report;
  if (r && job.phaseStartMs !== undefined) {
    const at = job.reportMs ?? nowMs;
    const phaseLeft =
      r.done >= r.total ? 0 : Math.max(0, rateEta(r.done - (job.phaseStartDone ?? 0), (at - job.phaseStartMs) / 1000, r.total - r.done) - (nowMs - at) / 1000);
    if (Number.isFinite(phaseLeft)) {
      const after = meanOf(history.afterPhaseS[r.phase] ?? []);
      return phaseLeft + (Number.isFinite(after) ? after : 0);
    }
  }
  const typical = meanOf(history.durationsS);
  return Number.isFinite(typical) ? Math.max(0, typical - (nowMs - job.startMs) / 1000) : NaN;
}

/**
 * The seconds until every job has ended: the running jobs' remaining times, then each queued job on the first free
 * slot (`width` at a time; 0: all at once), taking the finished jobs' mean wall time, or before any has finished the
 * mean estimated total (elapsed + remaining) of the running ones. NaN when some needed estimate is unknown.
 */
export function overallEtaS(running: { elapsedS: number; remainingS: number }[], queued: number, history: ProgressHistory, width: number): number {
  if (running.some((r) => !Number.isFinite(r.remainingS))) return NaN;
  let per = meanOf(history.durationsS);
  if (!Number.isFinite(per)) per = meanOf(running.map((r) => r.elapsedS + r.remainingS));
  if (queued > 0 && !Number.isFinite(per)) return NaN;
  const slots = width > 0 ? width : running.length + queued;
  const free = [...running.map((r) => r.remainingS), ...new Array<number>(Math.max(0, slots - running.length)).fill(0)];
  for (let i = 0; i < queued; i++) {
    free.sort((a, b) => a - b);
    free[0] += per;
  }
  return free.length ? Math.max(...free) : 0;
}

/** A running job's line: "edt seed 1 · train 12/40 steps (30%) · 1:05 elapsed · ETA 2:10". */
export function jobLine(job: JobProgress, nowMs: number, history: ProgressHistory): string {
  const r = job.report;
  const what = r
    ? `${r.phase}${r.detail ? ` ${r.detail}` : ''} ${r.done}/${r.total}${r.unit ? ` ${r.unit}` : ''}${r.total > 0 ? ` (${Math.floor((100 * r.done) / r.total)}%)` : ''}`
    : 'starting';
  return `${job.name} · ${what} · ${formatDuration((nowMs - job.startMs) / 1000)} elapsed · ETA ${formatDuration(jobRemainingS(job, nowMs, history))}`;
}

export interface OverallState {
  /** Jobs ended (failed ones included), of which failed. */
  done: number;
  failed: number;
  running: number;
  queued: number;
  /** What a job is called, plural: 'runs', 'evaluations'. */
  noun: string;
  elapsedS: number;
  etaS: number;
}

/** The overall line: "3/14 runs done (1 failed), 2 running, 9 queued · 4:12 elapsed · ETA 25:40". */
export function overallLine(s: OverallState): string {
  const total = s.done + s.running + s.queued;
  const parts = [`${s.done}/${total} ${s.noun} done${s.failed ? ` (${s.failed} failed)` : ''}`];
  if (s.running) parts.push(`${s.running} running`);
  if (s.queued) parts.push(`${s.queued} queued`);
  return `${parts.join(', ')} · ${formatDuration(s.elapsedS)} elapsed${s.running + s.queued ? ` · ETA ${formatDuration(s.etaS)}` : ''}`;
}

/** A line cut to a terminal's width (one column spare, so that it never wraps). */
export function fitWidth(line: string, columns?: number): string {
  if (!columns || columns < 8 || line.length <= columns - 1) return line;
  return line.slice(0, columns - 2) + '…';
}

/** The escape codes that erase a block of `drawn` lines drawn just above the cursor (nothing when none is drawn). */
export function clearBlock(drawn: number): string {
  return drawn > 0 ? `\r\x1b[${drawn}A\x1b[J` : '';
}

/**
 * A terminal frame: erase the previous block of `drawn` lines, then write `lines`, each cut to `columns` and ended by
 * a newline (the cursor stays below the block). A block taller than the terminal (`rows`) keeps its last line (the
 * overall one) and says how many lines it left out.
 */
export function ttyFrame(lines: string[], drawn: number, columns?: number, rows?: number): string {
  let shown = lines;
  if (rows && rows >= 4 && lines.length > rows - 1) {
    const keep = rows - 3;
    shown = [...lines.slice(0, keep), `… ${lines.length - 1 - keep} more`, lines[lines.length - 1]];
  }
  return clearBlock(drawn) + shown.map((l) => fitWidth(l, columns) + '\n').join('');
}

/** The same lines for a log file: plain text, no escape codes. */
export function plainLines(lines: string[]): string[] {
  return lines.map((l) => `[progress] ${l}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The child's side: machine-readable reports on stderr (see the top of this file).

/** The variable runJobs sets in a child run's environment: report progress lines on stderr. */
export const PROGRESS_ENV = 'INTROLLM_PROGRESS';
const REPORT_PREFIX = 'introllm-progress ';

/** A report as the line a child writes. */
export function progressReportLine(r: ProgressReport): string {
  return REPORT_PREFIX + JSON.stringify(r);
}

/** A child's stderr line as a report, or null when it is not one (an ordinary line, kept for the error tail). */
export function parseProgressLine(line: string): ProgressReport | null {
  if (!line.startsWith(REPORT_PREFIX)) return null;
  try {
    const r = JSON.parse(line.slice(REPORT_PREFIX.length)) as Partial<ProgressReport>;
    if (typeof r !== 'object' || r === null || typeof r.phase !== 'string' || typeof r.done !== 'number' || typeof r.total !== 'number') return null;
    return {
      phase: r.phase,
      done: r.done,
      total: r.total,
      ...(typeof r.unit === 'string' ? { unit: r.unit } : {}),
      ...(typeof r.detail === 'string' ? { detail: r.detail } : {}),
    };
  } catch {
    return null;
  }
}

/** Whether this process runs under a parent that reads its progress (runJobs). */
export function reportsProgress(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[PROGRESS_ENV] === '1';
}

/** Tells the parent run (if any) where this one is; nothing without one. */
export function reportProgress(r: ProgressReport): void {
  if (reportsProgress()) process.stderr.write(progressReportLine(r) + '\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The parent's side (or a command that runs its evaluations in-process): the board.

/** Where a board redraws: a terminal stream (process.stderr when it is one). */
export interface Terminal {
  write(s: string): unknown;
  columns?: number;
  rows?: number;
}

/** `stream` when it is a terminal that understands cursor moves, else null (plain lines). */
export function terminalOf(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): Terminal | null {
  return stream.isTTY && env.TERM !== 'dumb' ? stream : null;
}

export interface ProgressBoardOptions {
  /** Where log lines (and, without a terminal, the plain progress lines) go. */
  log: (line: string) => void;
  /** Jobs in all (queued = total − ended − running); lowered by skip(). */
  total: number;
  /** Jobs at a time; 0: all at once. */
  width: number;
  /** What a job is called, plural (default 'runs'). */
  noun?: string;
  /** The terminal to redraw on, or null for plain lines (default: terminalOf(process.stderr)). */
  tty?: Terminal | null;
  /** Plain mode: the progress lines every this many ms (default 30 s). */
  plainEveryMs?: number;
  /** Terminal mode: at most one redraw per this many ms (default 1 s). */
  ttyEveryMs?: number;
  /** Redraw from a timer as well (a parent waiting on child processes). A command that evaluates in-process blocks
   *  the event loop, so there report() triggers the redraws instead. */
  timer?: boolean;
  now?: () => number;
}

/** The live lines of a set of jobs; see the top of this file. */
export class ProgressBoard {
  private readonly jobs = new Map<string | number, JobProgress>();
  private readonly history = emptyHistory();
  private readonly tty: Terminal | null;
  private readonly now: () => number;
  private readonly t0: number;
  private total: number;
  private ended = 0;
  private failed = 0;
  private drawn = 0;
  private lastDraw = -Infinity;
  private lastPlain: number;
  private readonly timer?: ReturnType<typeof setInterval>;

  constructor(private readonly o: ProgressBoardOptions) {
    this.tty = o.tty === undefined ? terminalOf() : o.tty;
    this.now = o.now ?? (() => Date.now());
    this.t0 = this.now();
    this.lastPlain = this.t0;
    this.total = o.total;
    if (o.timer) {
      this.timer = setInterval(() => this.tick(), 1000);
      this.timer.unref?.();
    }
  }

  /** A job has started. */
  start(id: string | number, name: string): void {
    this.jobs.set(id, { name, startMs: this.now(), phaseEnds: {} });
    this.tick(true);
  }

  /** A job's report (a new phase starts its rate afresh). */
  report(id: string | number, r: ProgressReport): void {
    const j = this.jobs.get(id);
    if (!j) return;
    const now = this.now();
    if (!j.report || j.report.phase !== r.phase) {
      if (j.report) j.phaseEnds[j.report.phase] = now;
      j.phaseStartMs = now;
      j.phaseStartDone = r.done;
    }
    j.report = r;
    j.reportMs = now;
    this.tick();
  }

  /** A job has ended; returns its wall time in seconds. */
  end(id: string | number, ok: boolean): number {
    const now = this.now();
    const j = this.jobs.get(id);
    this.jobs.delete(id);
    this.ended++;
    if (!ok) this.failed++;
    if (!j) return 0;
    const s = (now - j.startMs) / 1000;
    if (ok) {
      this.history.durationsS.push(s);
      const ends = { ...j.phaseEnds, ...(j.report ? { [j.report.phase]: now } : {}) };
      for (const [phase, at] of Object.entries(ends)) (this.history.afterPhaseS[phase] ??= []).push((now - at) / 1000);
    }
    this.tick(true);
    return s;
  }

  /** A job that needs no running after all (its result was kept): one fewer in all. */
  skip(): void {
    this.total = Math.max(0, this.total - 1);
  }

  /** A log line, printed above the live block. */
  log(line: string): void {
    if (this.tty && this.drawn > 0) {
      this.tty.write(clearBlock(this.drawn));
      this.drawn = 0;
    }
    this.o.log(line);
    if (this.tty) this.draw();
  }

  /** The overall line now. */
  overall(): string {
    const now = this.now();
    const running = [...this.jobs.values()].map((j) => ({ elapsedS: (now - j.startMs) / 1000, remainingS: jobRemainingS(j, now, this.history) }));
    const queued = Math.max(0, this.total - this.ended - running.length);
    return overallLine({
      done: this.ended,
      failed: this.failed,
      running: running.length,
      queued,
      noun: this.o.noun ?? 'runs',
      elapsedS: (now - this.t0) / 1000,
      etaS: overallEtaS(running, queued, this.history, this.o.width),
    });
  }

  /** The block: one line per running job, then the overall line. */
  lines(): string[] {
    const now = this.now();
    return [...[...this.jobs.values()].map((j) => jobLine(j, now, this.history)), this.overall()];
  }

  /** Redraws (terminal) or prints the plain lines when their time has come; `force`: a terminal redraws now. */
  tick(force = false): void {
    const now = this.now();
    if (this.tty) {
      if (force || now - this.lastDraw >= (this.o.ttyEveryMs ?? 1000)) this.draw();
    } else if (now - this.lastPlain >= (this.o.plainEveryMs ?? 30_000)) {
      this.lastPlain = now;
      if (this.jobs.size) for (const l of plainLines(this.lines())) this.o.log(l);
    }
  }

  /** Stops the timer and erases the block (the log lines stay). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty && this.drawn > 0) this.tty.write(clearBlock(this.drawn));
    this.drawn = 0;
  }

  private draw(): void {
    if (!this.tty) return;
    this.lastDraw = this.now();
    if (this.jobs.size === 0) {
      if (this.drawn > 0) this.tty.write(clearBlock(this.drawn));
      this.drawn = 0;
      return;
    }
    const lines = this.lines();
    const frame = ttyFrame(lines, this.drawn, this.tty.columns, this.tty.rows);
    this.tty.write(frame);
    this.drawn = frame.split('\n').length - 1;
  }
}
