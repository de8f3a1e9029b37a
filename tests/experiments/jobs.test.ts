// runJobs: child introllm processes a few at a time, each with its exit code, time and peak RSS (the line the CLI
// writes at exit for it, kept out of the error tail), and their progress shown live (the children's report lines,
// also kept out of the tail); and how many at a time reproduce runs by default.
import { describe, expect, it } from 'vitest';
import { ExperimentConfig, parseSetting, resolveConfig } from '../../src/config';
import { runJobs } from '../../src/experiments/jobs';
import { methodOverride } from '../../src/experiments/methods';
import { defaultJobs } from '../../src/experiments/reproduce';
import { planFor } from '../../src/plan/gather';
import { PEAK_RSS_LINE, peakRssLine } from '../../src/io/rss';

describe('runJobs', () => {
  it("records each job's exit code and peak RSS, and keeps the peak line out of the tail", async () => {
    const lines: string[] = [];
    const r = await runJobs(
      [
        { name: 'help', args: ['--help'] },
        { name: 'unknown', args: ['no-such-command'] },
      ],
      2,
      (l) => lines.push(l),
    );
    expect(r.map((x) => [x.name, x.code])).toEqual([
      ['help', 0],
      ['unknown', 2],
    ]);
    for (const x of r) {
      expect(x.peakRssMb).toBeGreaterThan(20); // a Node process with tsx loaded
      expect(x.peakRssMb).toBeLessThan(4096);
      expect(x.tail.some((l) => PEAK_RSS_LINE.test(l))).toBe(false);
    }
    expect(r[1].tail.join('\n')).toContain("unknown command 'no-such-command'");
    expect(lines.filter((l) => l.startsWith('[start]'))).toHaveLength(2);
    expect(PEAK_RSS_LINE.exec(peakRssLine())?.[1]).toMatch(/^\d+$/);
    // Each end says how many are done and, while one runs, the ETA; whichever ends first.
    const ends = lines.filter((l) => /^\[(done|FAILED \(2\))\] /.test(l));
    expect(ends[0]).toMatch(/ in [\d.]+ s · 1\/2 runs done(?: \(1 failed\))?, 1 running · [\d:]+ elapsed · ETA [\d:?]+$/);
    expect(ends[1]).toMatch(/ in [\d.]+ s · 2\/2 runs done \(1 failed\) · [\d:]+ elapsed$/);
  }, 60_000);

  it("shows a child's progress (an evaluation's problems) on a terminal, redrawn, and keeps its report lines out of the tail", async () => {
    const writes: string[] = [];
    const lines: string[] = [];
    const tty = { write: (s: string) => writes.push(s), columns: 200, rows: 40 };
    const r = await runJobs(
      [
        {
          name: 'before RL',
          args: [
            'eval',
            '--preset',
            'smoke',
            '--methods',
            'fixed-1.0',
            '--seeds',
            '0',
            '--set',
            'eval.problems=8',
            '--set',
            'eval.maxNewTokens=8',
            '--backend',
            'wasm',
          ],
        },
      ],
      1,
      (l) => lines.push(l),
      { tty, ttyEveryMs: 0 },
    );
    expect(r[0].code, r[0].tail.join('\n')).toBe(0);
    expect(r[0].tail.some((l) => l.startsWith('introllm-progress'))).toBe(false);
    const screen = writes.join('');
    expect(screen).toContain('before RL · eval fixed-1.0 seed 0 8/8 problems (100%)');
    expect(screen).toContain('0/1 runs done, 1 running');
    expect(screen.endsWith('\x1b[J')).toBe(true); // the block is erased at the end
    expect(lines).toEqual(['[start] before RL', expect.stringMatching(/^\[done\] before RL in [\d.]+ s · 1\/1 runs done · [\d:]+ elapsed$/)]);
  }, 60_000);
});

describe("defaultJobs: runs at a time by cores and memory, from the runs' plans", () => {
  // The Qwen3-0.6B shape on wasm with short generations, planned for a 24 GB or 64 GB machine with 2 cores.
  const cfg = (method: string, ...sets: string[]) =>
    resolveConfig({
      preset: 'paper',
      overrides: [
        { source: 'm', value: methodOverride(method) },
        { source: 'dir', value: parseSetting('model.dir=bench/shapes/qwen3-0.6b') },
        ...['rollout.promptsPerStep=1', 'rollout.maxNewTokens=16', 'eval.maxNewTokens=16', ...sets].map((s) => ({ source: s, value: parseSetting(s) })),
      ],
    });
  const plan = (c: ExperimentConfig, hostBytes: number, cores = 2) => planFor(c, { backend: { requested: 'wasm' }, hostBytes, cores, promptTokens: 32 });
  const W = 2384199680; // 4 × 596,049,920 parameters
  const EMBED = 622329856; // the [151936, 1024] embedding, the largest tensor
  it("a 0.6B run that trains θ keeps θ's state on the host: 256 MiB + 3 × 2.38 + (2.38 + 0.62) + 1 GiB = 11.50 GB: one at a time on 24 GB, said once; two on 64 GB", () => {
    const c = cfg('fixed-1.0');
    const p24 = plan(c, 24e9);
    expect(p24.theta_state).toBe('host');
    expect(p24.gemm).toBe('all');
    expect(p24.host_bytes_per_run).toBe(256 * 2 ** 20 + 3 * W + W + EMBED + 2 ** 30);
    const lines: string[] = [];
    expect(defaultJobs([p24], (l) => lines.push(l), 2)).toBe(1); // floor(0.8 · 24 / 11.50) = 1
    expect(lines).toEqual([
      "reproduce: 1 run at a time, not 2: a run needs about 11.5 GB (weights, and θ's gradients and Adam's moments) of this machine's 24.0 GB (--jobs overrides)",
    ]);
    expect(defaultJobs([plan(c, 64e9)], (l) => lines.push(l), 2)).toBe(2);
    expect(defaultJobs([plan(c, 64e9, 1)], (l) => lines.push(l), 1)).toBe(1);
    expect(lines.length).toBe(1);
  });
  it('with θ frozen (temperature-only) the weights, working room and the recorded head inputs, 256 MiB + 2.38 + 1 GiB + 0.5 MiB = 3.73 GB: two fit on 24 GB; the worst run of a set decides', () => {
    const t = plan(cfg('introllm', 'schedule.mode=temperature-only'), 24e9);
    expect(t.theta_state).toBe('none');
    expect(t.head_inputs).toBe('recorded');
    // 8 rows (one prompt × groups of 8) × 16 new tokens × h_t's 1024 floats.
    expect(t.host_bytes_per_run).toBe(256 * 2 ** 20 + W + 2 ** 30 + 8 * 16 * 1024 * 4);
    expect(defaultJobs([t], () => {}, 2)).toBe(2);
    expect(defaultJobs([t, plan(cfg('edt'), 24e9)], () => {}, 2)).toBe(1);
  });
  it('the tiny preset runs two at a time on a 2-core 24 GB machine', () => {
    const p = planFor(resolveConfig({ preset: 'tiny' }), { backend: { requested: 'wasm' }, hostBytes: 24e9, cores: 2 });
    expect(p.jobs).toBe(2);
    expect(defaultJobs([p], () => {}, 2)).toBe(2);
  });
});
