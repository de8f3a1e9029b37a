// runJobs: child introllm processes a few at a time, each with its exit code, time and peak RSS (the line the CLI
// writes at exit for it, kept out of the error tail).
import { describe, expect, it } from 'vitest';
import { progressLine, runJobs } from '../../src/experiments/jobs';
import { PEAK_RSS_LINE, peakRssLine } from '../../src/io/rss';

describe('runJobs', () => {
  it('records each job\'s exit code and peak RSS, and keeps the peak line out of the tail', async () => {
    const lines: string[] = [];
    const r = await runJobs([
      { name: 'help', args: ['--help'] },
      { name: 'unknown', args: ['no-such-command'] },
    ], 2, (l) => lines.push(l));
    expect(r.map((x) => [x.name, x.code])).toEqual([['help', 0], ['unknown', 2]]);
    for (const x of r) {
      expect(x.peakRssMb).toBeGreaterThan(20); // a Node process with tsx loaded
      expect(x.peakRssMb).toBeLessThan(4096);
      expect(x.tail.some((l) => PEAK_RSS_LINE.test(l))).toBe(false);
    }
    expect(r[1].tail.join('\n')).toContain("unknown command 'no-such-command'");
    expect(lines.filter((l) => l.startsWith('[start]'))).toHaveLength(2);
    expect(PEAK_RSS_LINE.exec(peakRssLine())?.[1]).toMatch(/^\d+$/);
    expect(progressLine(1, 3, 1000, 2)).toBe('1/3 runs done, ETA 0:01');
  }, 60_000);
});
