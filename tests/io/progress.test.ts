// The live progress of the long commands (src/io/progress.ts): the ETA of a job and of the whole command, the lines,
// the child's report lines, and the board on a terminal (redrawn with cursor moves) and in a log file (plain lines
// every 30 s, no escape codes).
import { describe, expect, it } from 'vitest';
import {
  clearBlock,
  emptyHistory,
  fitWidth,
  formatDuration,
  JobProgress,
  jobLine,
  jobRemainingS,
  overallEtaS,
  overallLine,
  parseProgressLine,
  plainLines,
  ProgressBoard,
  progressReportLine,
  rateEta,
  reportsProgress,
  terminalOf,
  ttyFrame,
} from '../../src/io/progress';

const ESC = '\x1b';

describe('formatting', () => {
  it('durations: m:ss below an hour, h:mm:ss above, ? when unknown', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65.4)).toBe('1:05');
    expect(formatDuration(3599.6)).toBe('1:00:00');
    expect(formatDuration(3 * 3600 + 7 * 60 + 9)).toBe('3:07:09');
    expect(formatDuration(NaN)).toBe('?');
    expect(formatDuration(-1)).toBe('?');
    expect(formatDuration(Infinity)).toBe('?');
  });

  it('rateEta: the time so far per unit done, times the units left; unknown before the first unit', () => {
    expect(rateEta(10, 20, 30)).toBe(60);
    expect(rateEta(0, 5, 30)).toBeNaN();
    expect(rateEta(10, 20, 0)).toBe(0);
  });

  it("a job's remaining time: its phase at the phase's own rate, plus what finished jobs took after that phase", () => {
    const job: JobProgress = {
      name: 'edt seed 1',
      startMs: 0,
      phaseEnds: {},
      report: { phase: 'train', done: 12, total: 40, unit: 'steps' },
      reportMs: 40_000,
      phaseStartMs: 10_000,
      phaseStartDone: 2,
    };
    const h = emptyHistory();
    // 10 steps in 30 s from the phase's first report (at step 2) to its latest: 28 to go → 84 s, counting down after.
    expect(jobRemainingS(job, 40_000, h)).toBeCloseTo(84, 9);
    expect(jobRemainingS(job, 50_000, h)).toBeCloseTo(74, 9);
    expect(jobRemainingS(job, 200_000, h)).toBe(0); // overdue
    h.afterPhaseS.train = [20, 30]; // finished runs evaluated for 25 s after training
    expect(jobRemainingS(job, 40_000, h)).toBeCloseTo(109, 9);
    // No rate yet: the finished jobs' mean wall time less the time elapsed; nothing finished: unknown.
    const fresh: JobProgress = { name: 'x', startMs: 0, phaseEnds: {}, report: { phase: 'train', done: 0, total: 40 }, phaseStartMs: 0, phaseStartDone: 0 };
    expect(jobRemainingS(fresh, 10_000, emptyHistory())).toBeNaN();
    expect(jobRemainingS(fresh, 10_000, { durationsS: [100, 200], afterPhaseS: {} })).toBe(140);
    expect(jobRemainingS({ name: 'y', startMs: 0, phaseEnds: {} }, 500_000, { durationsS: [100], afterPhaseS: {} })).toBe(0);
  });

  it("the overall ETA: the running jobs, then each queued job on the first free slot at the finished jobs' mean time", () => {
    const h = { durationsS: [100], afterPhaseS: {} };
    // Two slots free at 10 s and 50 s; three queued jobs of 100 s: 10+100, 50+100, 110+100 → 210 s.
    expect(
      overallEtaS(
        [
          { elapsedS: 90, remainingS: 10 },
          { elapsedS: 50, remainingS: 50 },
        ],
        3,
        h,
        2,
      ),
    ).toBe(210);
    // One slot, nothing running: one after the other.
    expect(overallEtaS([], 3, h, 1)).toBe(300);
    // Width 0 (a cluster: all at once): the longest one.
    expect(overallEtaS([{ elapsedS: 0, remainingS: 30 }], 3, h, 0)).toBe(100);
    // Before any job has finished, a queued one takes the running ones' estimated total (elapsed + remaining).
    expect(overallEtaS([{ elapsedS: 20, remainingS: 60 }], 1, emptyHistory(), 1)).toBe(140);
    expect(overallEtaS([{ elapsedS: 20, remainingS: NaN }], 1, h, 2)).toBeNaN();
    expect(overallEtaS([], 0, emptyHistory(), 2)).toBe(0);
  });

  it('the lines say what runs, how far, since when and for how long still', () => {
    const job: JobProgress = {
      name: 'edt seed 1',
      startMs: 0,
      phaseEnds: {},
      report: { phase: 'train', done: 12, total: 40, unit: 'steps' },
      reportMs: 40_000,
      phaseStartMs: 10_000,
      phaseStartDone: 2,
    };
    expect(jobLine(job, 65_000, emptyHistory())).toBe('edt seed 1 · train 12/40 steps (30%) · 1:05 elapsed · ETA 0:59');
    expect(
      jobLine(
        {
          name: 'before RL',
          startMs: 0,
          phaseEnds: {},
          report: { phase: 'eval', done: 3, total: 150, unit: 'problems', detail: 'fixed-1.0 seed 0' },
          phaseStartMs: 0,
          phaseStartDone: 3,
        },
        1000,
        emptyHistory(),
      ),
    ).toBe('before RL · eval fixed-1.0 seed 0 3/150 problems (2%) · 0:01 elapsed · ETA ?');
    expect(jobLine({ name: 'tampo seed 0', startMs: 0, phaseEnds: {} }, 2000, emptyHistory())).toBe('tampo seed 0 · starting · 0:02 elapsed · ETA ?');
    expect(overallLine({ done: 3, failed: 1, running: 2, queued: 9, noun: 'runs', elapsedS: 252, etaS: 1540 })).toBe(
      '3/14 runs done (1 failed), 2 running, 9 queued · 4:12 elapsed · ETA 25:40',
    );
    expect(overallLine({ done: 4, failed: 0, running: 0, queued: 0, noun: 'evaluations', elapsedS: 61, etaS: 0 })).toBe('4/4 evaluations done · 1:01 elapsed');
  });

  it('terminal frames erase the previous block and cut lines to the width; plain lines have no escape codes', () => {
    expect(clearBlock(0)).toBe('');
    expect(clearBlock(3)).toBe(`\r${ESC}[3A${ESC}[J`);
    expect(ttyFrame(['a', 'b'], 0)).toBe('a\nb\n');
    expect(ttyFrame(['a', 'b'], 2, 80)).toBe(`\r${ESC}[2A${ESC}[Ja\nb\n`);
    expect(fitWidth('x'.repeat(30), 20)).toBe('x'.repeat(18) + '…');
    expect(fitWidth('short', 20)).toBe('short');
    // Taller than the terminal: the first lines, a count of the rest, and the overall line.
    expect(ttyFrame(['1', '2', '3', '4', '5', '6', 'all'], 0, 80, 5)).toBe('1\n2\n… 4 more\nall\n');
    const plain = plainLines(['edt seed 1 · train 12/40 steps', '3/14 runs done']);
    expect(plain).toEqual(['[progress] edt seed 1 · train 12/40 steps', '[progress] 3/14 runs done']);
    expect(plain.join('')).not.toContain(ESC);
  });
});

describe("the child's report lines", () => {
  it('round-trip, and anything else is not one', () => {
    const r = { phase: 'eval', done: 16, total: 150, unit: 'problems', detail: 'fixed-1.0 seed 0' };
    expect(parseProgressLine(progressReportLine(r))).toEqual(r);
    expect(parseProgressLine(progressReportLine({ phase: 'train', done: 1, total: 4 }))).toEqual({ phase: 'train', done: 1, total: 4 });
    expect(parseProgressLine('train introllm step 3/40 (eta 1:00)')).toBeNull();
    expect(parseProgressLine('introllm-progress {"phase":"train"')).toBeNull();
    expect(parseProgressLine('introllm-progress {"phase":"train","done":"3","total":4}')).toBeNull();
    expect(reportsProgress({ INTROLLM_PROGRESS: '1' })).toBe(true);
    expect(reportsProgress({})).toBe(false);
  });

  it('a terminal is a TTY stream with a TERM that moves the cursor', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    expect(terminalOf(tty, { TERM: 'xterm' })).toBe(tty);
    expect(terminalOf(tty, { TERM: 'dumb' })).toBeNull();
    expect(terminalOf({ isTTY: false } as NodeJS.WriteStream, {})).toBeNull();
  });
});

describe('ProgressBoard', () => {
  const clock = () => {
    const c = { t: 0, now: () => c.t };
    return c;
  };

  it('plain mode: log lines as they come, the progress lines every 30 s, no escape codes', () => {
    const c = clock();
    const out: string[] = [];
    const b = new ProgressBoard({ log: (l) => out.push(l), total: 3, width: 2, tty: null, now: c.now });
    b.start(0, 'a seed 0');
    b.log('[start] a seed 0');
    b.report(0, { phase: 'train', done: 0, total: 10, unit: 'steps' });
    c.t = 28_000;
    b.report(0, { phase: 'train', done: 7, total: 10, unit: 'steps' });
    expect(out).toEqual(['[start] a seed 0']);
    c.t = 30_000;
    b.tick();
    // 4 s a step: 12 s left at the last report, 2 s ago. Nothing finished yet: the queued runs take as long as this one
    // in all (40 s), two at a time: 10 + 40, 0 + 40 → 50 s.
    expect(out.slice(1)).toEqual([
      '[progress] a seed 0 · train 7/10 steps (70%) · 0:30 elapsed · ETA 0:10',
      '[progress] 0/3 runs done, 1 running, 2 queued · 0:30 elapsed · ETA 0:50',
    ]);
    c.t = 40_000;
    b.report(0, { phase: 'eval', done: 0, total: 8, unit: 'problems' });
    c.t = 50_000;
    b.report(0, { phase: 'eval', done: 8, total: 8, unit: 'problems' });
    expect(out).toHaveLength(3); // not yet 30 s since the last
    expect(b.end(0, true)).toBe(50);
    // One run took 50 s, 10 of them after training: the queued two take 50 s each on two slots.
    expect(b.overall()).toBe('1/3 runs done, 2 queued · 0:50 elapsed · ETA 0:50');
    b.start(1, 'b seed 0');
    b.report(1, { phase: 'train', done: 0, total: 10 });
    c.t = 60_000;
    b.report(1, { phase: 'train', done: 5, total: 10 });
    // b: 5 steps in 10 s, 5 to go (10 s) and then 10 s of evaluation as a's.
    expect(b.lines()[0]).toBe('b seed 0 · train 5/10 (50%) · 0:10 elapsed · ETA 0:20');
    b.skip();
    expect(b.overall()).toBe('1/2 runs done, 1 running · 1:00 elapsed · ETA 0:20');
    b.close();
    expect(out.join('\n')).not.toContain(ESC);
  });

  it('terminal mode: the block is redrawn in place, log lines go above it, close erases it', () => {
    const c = clock();
    const writes: string[] = [];
    const logged: string[] = [];
    const tty = { write: (s: string) => writes.push(s), columns: 100, rows: 30 };
    const b = new ProgressBoard({
      log: (l) => {
        logged.push(l);
        writes.push(`LOG:${l}\n`);
      },
      total: 2,
      width: 2,
      tty,
      now: c.now,
    });
    b.start('x', 'introllm seed 0');
    expect(writes).toEqual(['introllm seed 0 · starting · 0:00 elapsed · ETA ?\n0/2 runs done, 1 running, 1 queued · 0:00 elapsed · ETA ?\n']);
    b.log('[start] introllm seed 0');
    expect(writes.slice(1)).toEqual([`\r${ESC}[2A${ESC}[J`, 'LOG:[start] introllm seed 0\n', writes[0]]);
    b.report('x', { phase: 'train', done: 0, total: 40, unit: 'steps' });
    expect(writes).toHaveLength(4); // within a second of the last redraw
    c.t = 2000;
    b.report('x', { phase: 'train', done: 1, total: 40, unit: 'steps' });
    expect(writes).toHaveLength(5);
    expect(writes[4].startsWith(`\r${ESC}[2A${ESC}[J`)).toBe(true);
    expect(writes[4]).toContain('introllm seed 0 · train 1/40 steps (2%) · 0:02 elapsed · ETA 1:18\n');
    for (const line of writes[4].split('\n')) expect(line.replace(/\r\x1b\[\d+A\x1b\[J/, '').length).toBeLessThanOrEqual(99);
    b.close();
    expect(writes.at(-1)).toBe(`\r${ESC}[2A${ESC}[J`);
    expect(logged).toEqual(['[start] introllm seed 0']);
  });
});
