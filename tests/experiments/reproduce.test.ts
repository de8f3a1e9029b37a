// `introllm reproduce` end to end on a tiny random model (fast): the results folder, summary.json's shape, resuming.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { tempDir } from '../helpers/kit';
import { writeTinyTaskModel } from '../helpers/tiny-model';

const ROOT = path.join(__dirname, '..', '..');
const dir = tempDir();
const modelDir = path.join(dir, 'model');
beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  await writeTinyTaskModel(modelDir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const runIn = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'introllm.js'), ...args], { encoding: 'utf8', cwd });
const run = (...args: string[]) => runIn(ROOT, ...args);

describe('introllm reproduce', () => {
  it('writes config, manifest, per-run folders, summary.json and the table; a second call reuses finished runs', () => {
    const out = path.join(dir, 'rep');
    const args = [
      'reproduce',
      '--preset',
      'smoke',
      '--out',
      out,
      '--methods',
      'introllm,fixed-0.6',
      '--seeds',
      '0,1',
      '--jobs',
      '2',
      '--set',
      `model.dir=${modelDir}`,
      '--set',
      'train.steps=1',
      '--set',
      'rollout.maxNewTokens=8',
      '--set',
      'eval.maxNewTokens=8',
      '--set',
      'eval.problems=4',
    ];
    const r = run(...args);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['before-rl', 'config.json', 'figures', 'manifest.json', 'requests', 'runs', 'summary.json', 'table.md']);
    expect(fs.existsSync(path.join(out, 'figures', 'index.html'))).toBe(true);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(Object.keys(summary.methods)).toEqual(['introllm', 'fixed-0.6']);
    for (const m of Object.values(summary.methods) as Record<string, unknown>[]) {
      expect(m.seeds).toEqual([0, 1]);
      expect(typeof m.accuracy).toBe('number');
      expect((m.ci95 as number[]).length).toBe(2);
      expect(Object.keys(m.pass_at_k as object).sort()).toEqual(['1', '2']);
    }
    expect(r.stdout).toContain('| introllm |');
    // The base model before RL, paired with every method, and IntroLLM paired with the baseline.
    expect(summary.before_rl.seeds).toEqual([0, 1]);
    for (const m of ['introllm', 'fixed-0.6']) {
      const d = summary.vs_before_rl[m];
      expect(d.diff).toBeCloseTo(summary.methods[m].accuracy - summary.before_rl.accuracy, 12);
      expect(d.ci95[0]).toBeLessThanOrEqual(d.diff);
      expect(d.ci95[1]).toBeGreaterThanOrEqual(d.diff);
    }
    expect(summary.introllm_vs['fixed-0.6'].diff).toBeCloseTo(summary.methods.introllm.accuracy - summary.methods['fixed-0.6'].accuracy, 12);
    expect(r.stdout).toContain('| method − before RL |');
    // IntroLLM's head before training (its initialisation, evaluated by the before-RL job) and after, side by side.
    expect(fs.readdirSync(path.join(out, 'before-rl', 'evals')).sort()).toEqual(['fixed-1.0', 'introllm']);
    for (const side of ['start', 'end']) {
      const h = summary.head[side];
      expect(h.seeds).toEqual([0, 1]);
      expect(h.tau_mean).toBeGreaterThan(0);
      expect(h.gate_rate).toBeGreaterThanOrEqual(0);
      expect(typeof h.tau_entropy.spearman.value).toBe('number');
      expect(Object.keys(h.tau_by_class).length).toBeGreaterThan(0);
    }
    expect(summary.head.end.tau_by_class).toEqual(summary.interpretability.introllm.tau_by_class);
    expect(summary.vs_before_rl.introllm.mde80).toBeGreaterThanOrEqual(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.sessions.length).toBe(1);
    expect(manifest.sessions[0].runs.length).toBe(5);
    expect(manifest.sessions[0].commit).toMatch(/^[0-9a-f]{40}$/); // each session records the code it ran from
    expect(typeof manifest.sessions[0].dirty).toBe('boolean');
    expect(manifest.packages['@tensorflow/tfjs']).toBe('4.22.0');
    const again = run(...args);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('0 runs to do');
    const after = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(after.sessions.map((x: { runs: unknown[] }) => x.runs.length)).toEqual([5, 0]); // the first session's record is kept
  });

  it('by default trains into runs/<preset>/ and prints its table beside the committed results/<preset>/; --reference writes the latter', () => {
    const cwd = path.join(dir, 'user-checkout');
    fs.mkdirSync(cwd, { recursive: true });
    const args = [
      '--preset',
      'smoke',
      '--methods',
      'fixed-0.6',
      '--seeds',
      '0',
      '--jobs',
      '1',
      '--set',
      `model.dir=${modelDir}`,
      '--set',
      'train.steps=1',
      '--set',
      'rollout.maxNewTokens=8',
      '--set',
      'eval.maxNewTokens=8',
      '--set',
      'eval.problems=4',
    ];
    const ref = runIn(cwd, 'reproduce', '--reference', ...args);
    expect(ref.status, ref.stderr).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'results', 'smoke', 'summary.json'))).toBe(true);
    expect(ref.stdout).not.toContain('beside the committed reference');
    const mine = runIn(cwd, 'reproduce', ...args);
    expect(mine.status, mine.stderr).toBe(0);
    expect(mine.stderr).toContain('2 runs to do'); // an empty run folder trains (and evaluates the base model); it does not read the reference
    expect(mine.stderr).toMatch(/2\/2 runs done/);
    expect(fs.existsSync(path.join(cwd, 'runs', 'smoke', 'runs', 'fixed-0.6', 'seed-0', 'eval.json'))).toBe(true);
    expect(mine.stdout).toContain('beside the committed reference results/smoke/');
    expect(mine.stdout).toMatch(/\| fixed-0\.6 \| [\d.]+% \| .* \| yes \|/); // same config and seed: the same numbers, inside the CI
    const both = runIn(cwd, 'reproduce', '--reference', '--out', 'x', ...args);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('give either it or --out');
  });

  it('--preset paper on local files: per-benchmark numbers in summary.json and a per-benchmark table', () => {
    const dataDir = path.join(dir, 'bench-data');
    fs.mkdirSync(dataDir, { recursive: true });
    const rows = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${prefix}-${i}`, problem: `what is ${i} + ${i}?`, answer: String(2 * i) })).join('\n') + '\n';
    fs.writeFileSync(path.join(dataDir, 'tr.jsonl'), rows('tr', 6));
    fs.writeFileSync(path.join(dataDir, 'set_a.jsonl'), rows('a', 3));
    fs.writeFileSync(path.join(dataDir, 'set_b.jsonl'), rows('b', 2));
    const out = path.join(dir, 'paper');
    const r = run(
      'reproduce',
      '--preset',
      'paper',
      '--out',
      out,
      '--methods',
      'introllm',
      '--seeds',
      '0,1',
      '--jobs',
      '2',
      '--set',
      `model.dir=${modelDir}`,
      '--set',
      `task.dataDir=${dataDir}`,
      '--set',
      'task.trainBenchmark=tr',
      '--set',
      'task.evalBenchmarks=["set_a","set_b"]',
      '--set',
      'task.instruction=',
      '--set',
      'train.steps=1',
      '--set',
      'rollout.promptsPerStep=2',
      '--set',
      'rollout.groupSize=2',
      '--set',
      'rollout.maxNewTokens=8',
      '--set',
      'eval.maxNewTokens=8',
      '--set',
      'eval.k=2',
    );
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')).methods.introllm;
    expect(Object.keys(m.per_benchmark)).toEqual(['set_a', 'set_b']);
    expect(m.per_benchmark.set_a.problems).toBe(3);
    expect(m.per_benchmark.set_b.problems).toBe(2);
    expect(m.accuracy).toBeCloseTo((m.per_benchmark.set_a.accuracy + m.per_benchmark.set_b.accuracy) / 2, 12);
    const evalJson = JSON.parse(fs.readFileSync(path.join(out, 'runs', 'introllm', 'seed-0', 'eval.json'), 'utf8'));
    expect(evalJson.problems.map((p: { set: string }) => p.set)).toEqual(['set_a', 'set_a', 'set_a', 'set_b', 'set_b']);
    expect(fs.readFileSync(path.join(out, 'table.md'), 'utf8')).toContain('| method (Avg@2 %, 95% CI) | set_a | set_b | average |');
    expect(fs.readFileSync(path.join(out, 'figures', 'index.html'), 'utf8')).toContain('Accuracy per benchmark and the average');
  });

  it('ablate: one grid over seeds → table.json with CIs and the bar figure', () => {
    const out = path.join(dir, 'ablate-gate');
    const r = run(
      'ablate',
      '--grid',
      'gate',
      '--preset',
      'smoke',
      '--seeds',
      '0',
      '--out',
      out,
      '--jobs',
      '2',
      '--set',
      `model.dir=${modelDir}`,
      '--set',
      'train.steps=1',
      '--set',
      'rollout.maxNewTokens=8',
      '--set',
      'eval.maxNewTokens=8',
      '--set',
      'eval.problems=4',
    );
    expect(r.status, r.stderr).toBe(0);
    const table = JSON.parse(fs.readFileSync(path.join(out, 'table.json'), 'utf8'));
    expect(table.grid).toBe('gate');
    expect(table.rows.map((x: { variant: string }) => x.variant)).toEqual(['introllm', 'introllm-nogate']);
    for (const row of table.rows) {
      expect(row.ci95[0]).toBeLessThanOrEqual(row.accuracy);
      expect(row.ci95[1]).toBeGreaterThanOrEqual(row.accuracy);
      expect(Object.keys(row.pass_ci95).sort()).toEqual(['1', '2']);
    }
    expect(fs.readFileSync(path.join(out, 'figures', 'ablation.html'), 'utf8')).toContain(table.description);
    expect(r.stdout).toContain('| introllm-nogate |');
    // Every variant is paired with the grid's default (its first), not with 'introllm' as a reproduction would.
    expect(table.default_variant).toBe('introllm');
    expect(table.rows[0].vs_default).toBeUndefined();
    expect(table.rows[1].vs_default.diff).toBeCloseTo(table.rows[1].accuracy - table.rows[0].accuracy, 12);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.vs_default['introllm-nogate']).toEqual(table.rows[1].vs_default);
    expect(summary.introllm_vs).toBeUndefined();
    expect(r.stdout).toContain('| variant − introllm (the default) |');
    // compare: any two evaluated labels of any two folders, paired on their shared problems and seeds.
    const c = run('compare', `${out}:introllm-nogate`, `${out}:introllm`, '--json');
    expect(c.status, c.stderr).toBe(0);
    const cmp = JSON.parse(c.stdout);
    expect(cmp.diff).toBeCloseTo(table.rows[1].vs_default.diff, 12);
    expect([cmp.problems, cmp.seeds]).toEqual([4, [0]]);
    const cb = run('compare', `${out}:introllm`, `${path.join(out, 'before-rl')}:fixed-1.0`, '--json');
    expect(JSON.parse(cb.stdout).diff).toBeCloseTo(summary.vs_before_rl.introllm.diff, 12);
    const bad = run('compare', `${out}:nope`, `${out}:introllm`);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`no finished evaluation of 'nope'`);
    // Packed for committing, the folder rebuilds to the same summary and table.
    const p = run('pack', out);
    expect(p.status, p.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, 'runs', 'introllm', 'seed-0', 'eval.json.gz'))).toBe(true);
    const f = run('figures', out);
    expect(f.status, f.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'))).toEqual(summary);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'table.json'), 'utf8'))).toEqual(table);
    // --figures-only redraws from the folder's summary and table, which it leaves byte for byte as they are; the bar
    // figure is the paired difference to the default.
    const before = ['summary.json', 'table.json', 'table.md'].map((x) => fs.readFileSync(path.join(out, x), 'utf8'));
    fs.rmSync(path.join(out, 'figures', 'ablation.html'));
    const fo = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'introllm.js'), 'figures', '--figures-only', out], {
      encoding: 'utf8',
      cwd: ROOT,
      env: { ...process.env, INTROLLM_CHROMIUM: path.join(dir, 'no-chromium') },
    }); // HTML is enough here
    expect(fo.status, fo.stderr).toBe(0);
    expect(['summary.json', 'table.json', 'table.md'].map((x) => fs.readFileSync(path.join(out, x), 'utf8'))).toEqual(before);
    expect(fs.readFileSync(path.join(out, 'figures', 'ablation.html'), 'utf8')).toContain('minus the default');
  });

  it('eval: methods × sampling seeds on the untrained model → summary.json, table.md and per-seed evals', () => {
    const out = path.join(dir, 'eval');
    const r = run(
      'eval',
      '--preset',
      'smoke',
      '--methods',
      'fixed-0.6,fixed-1.2',
      '--seeds',
      '0,1',
      '--out',
      out,
      '--set',
      `model.dir=${modelDir}`,
      '--set',
      'eval.maxNewTokens=8',
      '--set',
      'eval.problems=4',
    );
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(Object.keys(summary.methods)).toEqual(['fixed-0.6', 'fixed-1.2']);
    expect(summary.methods['fixed-1.2'].tau_mean).toBeCloseTo(1.2, 6);
    expect(summary.methods['fixed-0.6'].seeds).toEqual([0, 1]);
    const seed1 = JSON.parse(fs.readFileSync(path.join(out, 'evals', 'fixed-0.6', 'seed-1.json'), 'utf8'));
    expect(seed1.problems).toHaveLength(4);
    expect(summary.methods['fixed-0.6'].per_seed[1].accuracy).toBeCloseTo(seed1.report.avg.value, 12);
    expect(r.stdout).toContain('| fixed-1.2 |');
    expect(fs.readFileSync(path.join(out, 'table.md'), 'utf8')).toContain('| fixed-0.6 |');
    // A re-run (e.g. after a kill) keeps what is done for the same config, and redoes what a changed config invalidates.
    fs.writeFileSync(path.join(out, 'evals', 'fixed-1.2', 'seed-1.json'), '{"torn":');
    const again = run(
      'eval',
      '--preset',
      'smoke',
      '--methods',
      'fixed-0.6,fixed-1.2',
      '--seeds',
      '0,1',
      '--out',
      out,
      '--set',
      `model.dir=${modelDir}`,
      '--set',
      'eval.maxNewTokens=8',
      '--set',
      'eval.problems=4',
    );
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr.match(/kept from/g)).toHaveLength(3);
    expect(again.stderr).toContain('eval fixed-1.2 seed 1: Avg@2');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'))).toEqual(summary);
    const changed = run(
      'eval',
      '--preset',
      'smoke',
      '--methods',
      'fixed-0.6',
      '--seeds',
      '0',
      '--out',
      out,
      '--set',
      `model.dir=${modelDir}`,
      '--set',
      'eval.maxNewTokens=6',
      '--set',
      'eval.problems=4',
    );
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.stderr).not.toContain('kept from');
    // A τ sweep's folder gets its figure (a PNG where Chromium is, else an HTML page) and keeps its summary.
    const kept = fs.readFileSync(path.join(out, 'summary.json'), 'utf8');
    const f = run('figures', out);
    expect(f.status, f.stderr).toBe(0);
    expect(fs.readdirSync(path.join(out, 'figures')).filter((x) => x.startsWith('tau-sweep.'))).toHaveLength(1);
    expect(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')).toBe(kept);
  });

  it('eval on benchmark files too long for the model fails before sampling, naming the problem and the limit', () => {
    const dataDir = path.join(dir, 'long-data');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'long.jsonl'), JSON.stringify({ id: 'long-0', problem: 'x'.repeat(300), answer: '1' }) + '\n');
    const r = run(
      'eval',
      '--preset',
      'smoke',
      '--methods',
      'fixed-1.0',
      '--set',
      `model.dir=${modelDir}`,
      '--set',
      'task.name=benchmark',
      '--set',
      `task.dataDir=${dataDir}`,
      '--set',
      'task.evalBenchmarks=["long"]',
      '--set',
      'task.instruction=',
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "long: problem 'long-0' has a 300-token prompt; with eval.maxNewTokens = 96 that is 396 positions, more than the model's max_position_embeddings 256",
    );
  });

  it('a missing model folder is a clear error before anything runs', () => {
    const r = run('reproduce', '--preset', 'smoke', '--out', path.join(dir, 'none'), '--set', 'model.dir=/nonexistent/model');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('model folder /nonexistent/model not found');
  });
});
