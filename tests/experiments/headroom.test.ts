// The headroom study: the summary's best-fixed selection and paired differences at hand values, the per-method files
// (compact lines, resume only with the same config), bad options as KitErrors naming the flag, and `introllm headroom`
// end to end on the smoke preset: the files, a resume that evaluates nothing again, and a redo of a lost method.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { evalLines, HeadroomEval, HeadroomOptions, planHeadroom, readEval, summariseHeadroom } from '../../src/experiments/headroom';
import { Rng } from '../../src/rng';
import { expectKitError, tempDir } from '../helpers/kit';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'introllm.js');
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const opts = (extra: Partial<HeadroomOptions> = {}): HeadroomOptions => ({
  preset: 'smoke',
  out: dir,
  taus: [0.4, 1.0],
  baselines: ['ead'],
  probes: ['calm-digits'],
  problems: 3,
  k: 2,
  seed: 0,
  sets: [],
  png: false,
  ...extra,
});

/** An evaluation with the given per-problem correctness (problems p0, p1, …). */
const ev = (method: string, kind: HeadroomEval['kind'], key: string, rows: number[][]): HeadroomEval => ({
  method,
  kind,
  key,
  tauMean: 1,
  lengthMean: 10,
  wallS: 1,
  problems: rows.map((r, i) => ({ id: `p${i}`, correct: r.map((c) => c === 1) })),
});

const meta = { preset: 'smoke', model: 'm', split: 'validation' as const, problems: 3, k: 2, seed: 0, max_new_tokens: 8, wall_s: 3 };

describe('summariseHeadroom', () => {
  it('picks the best fixed τ and pairs every difference by problem (hand values)', () => {
    // per-problem accuracy: fixed-0.4 [1, ½, 0] (mean ½), fixed-1.0 [½, ½, 0] (⅓), probe [1, 1, 0] (⅔), ead [0, ½, 0]
    const s = summariseHeadroom(
      [
        ev('fixed-0.4', 'fixed', '0.4', [
          [1, 1],
          [1, 0],
          [0, 0],
        ]),
        ev('fixed-1.0', 'fixed', '1.0', [
          [1, 0],
          [0, 1],
          [0, 0],
        ]),
        ev('ead', 'baseline', 'ead', [
          [0, 0],
          [1, 0],
          [0, 0],
        ]),
        ev('probe-calm-digits', 'probe', 'calm-digits', [
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
      ],
      meta,
      new Rng(1),
      2000,
    );
    expect(s.best_fixed).toBe('0.4');
    expect(s.fixed['0.4'].accuracy).toBeCloseTo(0.5, 12);
    expect(s.fixed['0.4'].diff_vs_best_fixed).toBeNull();
    // fixed-1.0 − fixed-0.4 per problem: [−½, 0, 0] → −1/6; every resample is ≤ 0
    expect(s.fixed['1.0'].diff_vs_best_fixed!.diff).toBeCloseTo(-1 / 6, 12);
    expect(s.fixed['1.0'].diff_vs_best_fixed!.ci95[1]).toBe(0);
    // probe − fixed-0.4: [0, ½, 0] → +1/6, interval [0, ½] (a resample without p1 has 0: 8/27 > 2.5%)
    const d = s.probes['calm-digits'].diff_vs_best_fixed!;
    expect(d.diff).toBeCloseTo(1 / 6, 12);
    expect(d.ci95[0]).toBe(0);
    expect(d.ci95[1]).toBeCloseTo(0.5, 12);
    expect(s.probes['calm-digits'].beats_best_fixed).toBe(false); // the interval touches 0
    expect(s.probes['calm-digits'].description).toContain('digits');
    // ead − fixed-0.4: [−1, 0, 0] → −⅓
    expect(s.baselines.ead.diff_vs_best_fixed!.diff).toBeCloseTo(-1 / 3, 12);
    expect(s.headroom).toEqual({ probes_beating_best_fixed: [], best_probe: 'calm-digits', best_probe_diff: d.diff });
  });

  it('a probe better on every problem beats the best fixed τ; a tie goes to the first τ of the grid', () => {
    const s = summariseHeadroom(
      [
        ev('fixed-0.4', 'fixed', '0.4', [
          [1, 0],
          [1, 0],
          [0, 0],
        ]),
        ev('fixed-1.0', 'fixed', '1.0', [
          [0, 0],
          [1, 1],
          [0, 0],
        ]),
        ev('probe-calm-digits', 'probe', 'calm-digits', [
          [1, 1],
          [1, 1],
          [1, 0],
        ]),
      ],
      meta,
      new Rng(1),
      500,
    );
    expect(s.best_fixed).toBe('0.4');
    expect(s.probes['calm-digits'].diff_vs_best_fixed!.ci95[0]).toBeGreaterThan(0);
    expect(s.probes['calm-digits'].beats_best_fixed).toBe(true);
    expect(s.headroom.probes_beating_best_fixed).toEqual(['calm-digits']);
  });

  it('methods evaluated on other problems, or no fixed τ, are KitErrors', () => {
    const a = ev('fixed-0.4', 'fixed', '0.4', [
      [1, 0],
      [1, 0],
    ]);
    const b = {
      ...ev('ead', 'baseline', 'ead', [
        [1, 0],
        [1, 0],
      ]),
      problems: [
        { id: 'p0', correct: [true] },
        { id: 'q', correct: [true] },
      ],
    };
    expectKitError(() => summariseHeadroom([a, b], meta, new Rng(1)), 'ead was evaluated on other problems');
    expectKitError(() => summariseHeadroom([ev('ead', 'baseline', 'ead', [[1]])], meta, new Rng(1)), 'no fixed-τ evaluation');
  });
});

describe('planHeadroom and the per-method files', () => {
  it('plans fixed τ, baselines and probes with the flags applied', () => {
    const plan = planHeadroom(opts({ sets: ['eval.maxNewTokens=40'] }));
    expect(plan.map((m) => m.method)).toEqual(['fixed-0.4', 'fixed-1.0', 'ead', 'probe-calm-digits']);
    expect(plan.map((m) => m.key)).toEqual(['0.4', '1.0', 'ead', 'calm-digits']);
    expect(plan[0].cfg.controller).toEqual({ name: 'fixed', fixedTau: 0.4 });
    expect(plan.every((m) => m.cfg.eval.problems === 3 && m.cfg.eval.k === 2 && m.cfg.eval.maxNewTokens === 40)).toBe(true);
    expect(plan[3].rule!.tau.digit).toBe(0.3);
  });

  it('bad options are KitErrors that name the flag', () => {
    expectKitError(() => planHeadroom(opts({ taus: [] })), '--taus is empty');
    expectKitError(() => planHeadroom(opts({ taus: [0.4, 0.4] })), '--taus names 0.4 twice');
    expectKitError(() => planHeadroom(opts({ taus: [-1] })), '--taus');
    expectKitError(() => planHeadroom(opts({ baselines: ['introllm'] })), "--baselines: unknown baseline 'introllm'", 'edt, ead, tampo');
    expectKitError(() => planHeadroom(opts({ probes: ['calm'] })), "--probes: unknown probe 'calm'", 'calm-digits');
    expectKitError(() => planHeadroom(opts({ sets: ['eval.kk=3'] })), "unknown config key 'eval.kk'");
  });

  it('writes one compact line per problem and resumes only an identical, complete evaluation', () => {
    const [m] = planHeadroom(opts());
    const file = path.join(dir, 'evals-unit', `${m.method}.jsonl`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const problems = [0, 1, 2].map((i) => ({ id: `p${i}`, correct: [i === 0, false], answers: [null, '1+2'] }));
    fs.writeFileSync(file, evalLines(m, { problems, tauMean: 0.4, meanLength: 12 }, 2.5));
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[1])).toEqual({ id: 'p0', correct: [1, 0], answers: [null, '1+2'] });
    const back = readEval(file, m)!;
    expect(back.problems).toEqual(problems.map(({ id, correct }) => ({ id, correct })));
    expect(back.tauMean).toBe(0.4);
    expect(readEval(file, { ...m, cfg: { ...m.cfg, eval: { ...m.cfg.eval, k: 3 } } })).toBeNull();
    expect(readEval(file, { ...m, cfg: { ...m.cfg, seed: 1 } })).toBeNull();
    expect(readEval(file, { ...m, cfg: { ...m.cfg, controller: { ...m.cfg.controller, tauMax: 1.9 } } })).toBeNull();
    // A training-only key (a learning rate chosen after the study) does not touch an evaluation: kept.
    expect(readEval(file, { ...m, cfg: { ...m.cfg, optim: { ...m.cfg.optim, lrToken: 7e-5 } } })?.tauMean).toBe(0.4);
    // Packed (introllm pack) reads the same.
    fs.writeFileSync(file + '.gz', zlib.gzipSync(fs.readFileSync(file)));
    fs.rmSync(file);
    expect(readEval(file, m)).toEqual(back);
    fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync(file + '.gz')));
    fs.rmSync(file + '.gz');
    fs.writeFileSync(file, lines.slice(0, 3).join('\n') + '\n'); // a lost problem line
    expect(readEval(file, m)).toBeNull();
    fs.writeFileSync(file, lines[0].slice(0, 20)); // torn
    expect(readEval(file, m)).toBeNull();
  });
});

describe('introllm headroom (smoke preset)', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'headroom', '--preset', 'smoke', '--backend', 'wasm', '--no-png', ...args], { encoding: 'utf8', cwd: ROOT });
  const small = [
    '--problems',
    '4',
    '--k',
    '2',
    '--taus',
    '0.5,1.0',
    '--baselines',
    'ead,tampo',
    '--probes',
    'calm-digits,explore-branch',
    '--set',
    'eval.maxNewTokens=48',
  ];

  it('writes summary.json, table.md, the evals and the figure; a re-run keeps every method; a lost one is redone', () => {
    const out = path.join(dir, 'e2e');
    const r = run('--out', out, ...small);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(Object.keys(s.fixed)).toEqual(['0.5', '1.0']);
    expect(Object.keys(s.baselines)).toEqual(['ead', 'tampo']);
    expect(Object.keys(s.probes)).toEqual(['calm-digits', 'explore-branch']);
    expect(s.split).toBe('validation');
    expect(s.problems).toBe(4);
    expect(['0.5', '1.0']).toContain(s.best_fixed);
    for (const r of [...Object.values(s.fixed), ...Object.values(s.baselines), ...Object.values(s.probes)] as { accuracy: number; ci95: number[] }[]) {
      expect(r.accuracy).toBeGreaterThanOrEqual(r.ci95[0]);
      expect(r.accuracy).toBeLessThanOrEqual(r.ci95[1]);
    }
    expect(s.probes['explore-branch'].diff_vs_best_fixed.ci95).toHaveLength(2);
    expect(s.fixed['1.0'].tau_mean).toBeCloseTo(1, 6);
    const files = fs.readdirSync(path.join(out, 'evals')).sort();
    expect(files).toEqual(['ead.jsonl', 'fixed-0.5.jsonl', 'fixed-1.0.jsonl', 'probe-calm-digits.jsonl', 'probe-explore-branch.jsonl', 'tampo.jsonl']);
    const ids = fs
      .readFileSync(path.join(out, 'evals', 'ead.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l).id);
    expect(ids.every((id: string) => id.startsWith('guess-validation-'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'figures', 'headroom.html'))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'table.md'), 'utf8')).toContain('| probe-explore-branch | probe |');

    const again = run('--out', out, ...small);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr.match(/kept from/g)).toHaveLength(6);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'))).toEqual({ ...s, wall_s: s.wall_s });

    fs.rmSync(path.join(out, 'evals', 'tampo.jsonl'));
    const redo = run('--out', out, ...small);
    expect(redo.status, redo.stderr).toBe(0);
    expect(redo.stderr.match(/kept from/g)).toHaveLength(5);
    expect(redo.stderr).toMatch(/tampo: Avg@2/);
    const s2 = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(s2.baselines.tampo.accuracy).toBe(s.baselines.tampo.accuracy); // same seed, same samples
  }, 120_000);

  it('bad flags exit 2 with a message naming the flag', () => {
    const bad = (args: string[], msg: RegExp) => {
      const r = run('--out', path.join(dir, 'bad'), ...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(msg);
    };
    bad(['--taus', '0.5,x'], /--taus: item 2 \('x'\)/);
    bad(['--probes', 'nope'], /--probes: unknown probe 'nope'/);
    bad(['--problems', '0'], /--problems must be an integer >= 1/);
    bad(['--preset', 'huge'], /--preset: unknown preset 'huge'/);
    bad(['--problems', '2000'], /could only generate \d+ of 2000 distinct validation problems/);
    bad(['--frobnicate'], /frobnicate/);
  }, 120_000);
});
