// A study hands each child run its resolved config as a file: what the child resolves from it is exactly what the
// parent resolved for that run (value for value and in key order, as a resumed run's config.json is compared), the
// same config the former `train --preset --method --seed --set` command line gave, and every value keeps its source.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/commands/args';
import { trainConfig, TRAIN_FLAGS } from '../../src/commands/train';
import { loadConfigFile, resolveConfigSources, setOverrides } from '../../src/config';
import { Job } from '../../src/experiments/jobs';
import { Launcher } from '../../src/experiments/launcher';
import { methodOverride } from '../../src/experiments/methods';
import { reproduce, Variant } from '../../src/experiments/reproduce';
import { planFor } from '../../src/plan/gather';
import { resolveRunRequest, runRequest, runRequestFileOf, writeRunRequest } from '../../src/experiments/run-request';
import { runDirOf } from '../../src/experiments/run-files';
import { expectKitError, FIXTURES, tempDir } from '../helpers/kit';

const dir = tempDir('introllm-run-request-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const MODEL = path.join(FIXTURES, 'qwen3-f32');

/** A launcher that records the jobs it is given and starts none (as a dry run does). */
function recordingLauncher(): Launcher & { jobs: Job[] } {
  const l = {
    name: 'slurm' as const,
    jobs: [] as Job[],
    async launch(jobs: Job[]) {
      l.jobs.push(...jobs);
      return { settled: false, pending: jobs.map((j) => j.name), failed: [], runs: [], session: { dry_run: true } };
    },
  };
  return l;
}

/** The value of `flag` in a command line. */
const flagOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('the config file a study hands to each run', () => {
  // A config file with its own preset, a key under the controller's open section and a plain key; --set values that
  // touch keys the methods set (schedule.mode, controller.*), so the layers' order matters.
  const configFile = path.join(dir, 'study.yaml');
  fs.writeFileSync(configFile, ['preset: smoke', 'train:', '  steps: 3', 'controller:', '  tauMax: 1.5', 'rollout:', '  groupSize: 4', ''].join('\n'));
  const sets = [`model.dir=${MODEL}`, 'schedule.mode=joint', 'controller.tauMin=0.3', 'optim.lrToken=3e-5'];
  const variants: Variant[] = [
    { label: 'introllm', method: 'introllm', sets: [] },
    { label: 'fixed-0.6', method: 'fixed-0.6', sets: ['eval.k=2'] },
    { label: 'wide', method: 'introllm', sets: ['controller.tauMax=2.0'] },
  ];
  const seeds = [0, 3];
  const out = path.join(dir, 'study');

  it('each run is started with only its request file, which resolves to the config the parent resolved for it, in key order', async () => {
    const launcher = recordingLauncher();
    const r = await reproduce({ preset: 'smoke', out, sets, configFile, variants, seeds, launcher, backend: 'cpu', log: () => {} });
    expect(r.pending.length).toBe(variants.length * seeds.length + 1);
    const trains = launcher.jobs.filter((j) => j.args[0] === 'train');
    expect(trains.length).toBe(variants.length * seeds.length);
    for (const v of variants) {
      for (const seed of seeds) {
        const runDir = runDirOf(out, v.label, seed);
        const job = trains.find((j) => flagOf(j.args, '--out') === runDir)!;
        const file = runRequestFileOf(out, v.label, seed);
        expect(file).toBe(path.join(out, 'requests', v.label, `seed-${seed}.json`));
        expect(job.args).toEqual(['train', '--config', file, '--out', runDir, '--backend', 'cpu']);
        // The run folder itself is left to the run (a launcher that cannot submit leaves it as it was).
        expect(fs.existsSync(runDir)).toBe(false);
        // What the parent resolved for this run (train's layers: preset < file < method < seed < --set).
        const parent = resolveConfigSources({
          preset: 'smoke',
          configFile,
          overrides: [
            { source: `method ${v.method}`, kind: 'method', value: methodOverride(v.method) },
            { source: 'seed', value: { seed } },
            ...setOverrides([...sets, ...v.sets]),
          ],
        }).config;
        // What the child resolves from its command line.
        const child = trainConfig(parseFlags(job.args.slice(1), TRAIN_FLAGS));
        expect(child).toEqual(parent);
        expect(JSON.stringify(child)).toBe(JSON.stringify(parent));
        // The same config as the command line the study used to build (so a run folder made by it resumes).
        const former = trainConfig(
          parseFlags(
            [
              '--preset',
              'smoke',
              '--config',
              configFile,
              '--method',
              v.method,
              '--seed',
              String(seed),
              ...[...sets, ...v.sets].flatMap((s) => ['--set', s]),
              '--out',
              runDir,
            ],
            TRAIN_FLAGS,
          ),
        );
        expect(JSON.stringify(child)).toBe(JSON.stringify(former));
        expect([child.seed, child.schedule.mode, child.controller.tauMin, child.train.steps]).toEqual([seed, 'joint', 0.3, 3]);
      }
    }
    const wide = trainConfig(parseFlags(['--config', runRequestFileOf(out, 'wide', 3)], TRAIN_FLAGS));
    expect([wide.controller.tauMax, wide.controller.name]).toEqual([2.0, 'introllm']);
    const fixed = trainConfig(parseFlags(['--config', runRequestFileOf(out, 'fixed-0.6', 0)], TRAIN_FLAGS));
    expect([fixed.controller.name, fixed.controller.fixedTau, fixed.eval.k]).toEqual(['fixed', 0.6, 2]);
    // The before-RL evaluation still resolves its two methods itself from the study's file and --set values.
    const before = launcher.jobs.find((j) => j.args[0] === 'eval')!;
    expect(flagOf(before.args, '--config')).toBe(configFile);
  });

  it('the child reports where each value came from, naming the file it read', () => {
    const file = runRequestFileOf(out, 'fixed-0.6', 3);
    const { sources, preset } = resolveRunRequest(file);
    expect(preset).toBe('smoke');
    expect(sources['schedule.mode']).toEqual({ kind: 'set', label: `--set schedule.mode=joint (via ${file})` });
    expect(sources['eval.k']).toEqual({ kind: 'set', label: `--set eval.k=2 (via ${file})` });
    expect(sources['controller.name']).toEqual({ kind: 'method', label: `method fixed-0.6 (via ${file})` });
    expect(sources.seed).toEqual({ kind: 'override', label: `seed 3 of the study's seeds (via ${file})` });
    expect(sources['train.steps']).toEqual({ kind: 'file', label: `${configFile}:3 (via ${file})` });
    expect(sources['grpo.klCoef']).toEqual({ kind: 'default', label: `default (via ${file})` });
    expect(sources['rollout.promptsPerStep'].kind).toBe('preset');
    // A key added to the file by hand is the file's own.
    const edited = path.join(dir, 'edited.json');
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(
      edited,
      JSON.stringify(
        { ...raw, grpo: { ...raw.grpo, klCoef: 0.1 }, sources: Object.fromEntries(Object.entries(raw.sources).filter(([k]) => k !== 'grpo.klCoef')) },
        null,
        2,
      ),
    );
    const e = resolveRunRequest(edited);
    expect(e.config.grpo.klCoef).toBe(0.1);
    expect(e.sources['grpo.klCoef'].kind).toBe('file');
    expect(e.sources['grpo.klCoef'].label).toMatch(/^.*edited\.json:\d+/);
  });

  it('a malformed sources map, or a value JSON cannot hold, is one error naming the file and the key', () => {
    const bad = path.join(dir, 'bad-sources.json');
    fs.writeFileSync(bad, JSON.stringify({ preset: 'smoke', seed: 1, sources: { seed: { kind: 'guess', label: 'x' } } }, null, 2));
    expectKitError(() => loadConfigFile(bad), bad, 'sources.seed must be { kind:');
    fs.writeFileSync(bad, JSON.stringify({ preset: 'smoke', sources: [1] }));
    expectKitError(() => loadConfigFile(bad), bad, "'sources' must map config keys to { kind, label }");
    const inf = path.join(dir, 'inf.yaml');
    fs.writeFileSync(inf, 'grpo:\n  maxGradNorm: .inf\n');
    const r = resolveConfigSources({ preset: 'smoke', configFile: inf });
    expect(r.config.grpo.maxGradNorm).toBe(Infinity);
    expectKitError(() => runRequest(r), "config key 'grpo.maxGradNorm' is Infinity");
    expectKitError(() => writeRunRequest(path.join(dir, 'inf-run', 'seed-0.json'), r), 'grpo.maxGradNorm');
    expect(fs.existsSync(path.join(dir, 'inf-run'))).toBe(false);
  });
});

describe('runs side by side on this machine share its cores', () => {
  it('a local study running w runs at a time hands each train run its share (--cores), to which device.threads auto resolves; a cluster study hands none', async () => {
    const local = { ...recordingLauncher(), name: 'local' as const };
    const out = path.join(dir, 'cores-local');
    await reproduce({
      preset: 'smoke',
      out,
      sets: [`model.dir=${MODEL}`],
      variants: [{ label: 'introllm', method: 'introllm', sets: [] }],
      seeds: [0, 1],
      launcher: local,
      backend: 'cpu',
      jobs: 2,
      log: () => {},
    });
    const trains = local.jobs.filter((j) => j.args[0] === 'train');
    expect(trains.length).toBe(2);
    const share = String(Math.max(1, Math.floor(os.cpus().length / 2)));
    for (const j of trains) expect(flagOf(j.args, '--cores'), j.args.join(' ')).toBe(share);
    const f = parseFlags(trains[0].args.slice(1), TRAIN_FLAGS);
    const plan = planFor(trainConfig(f), { backend: { requested: 'cpu' }, modelDir: MODEL, cores: Number(f.cores) });
    expect(plan.threads).toBe(Number(share));
    const cluster = recordingLauncher();
    await reproduce({
      preset: 'smoke',
      out: path.join(dir, 'cores-cluster'),
      sets: [`model.dir=${MODEL}`],
      variants: [{ label: 'introllm', method: 'introllm', sets: [] }],
      seeds: [0],
      launcher: cluster,
      backend: 'cpu',
      log: () => {},
    });
    expect(cluster.jobs.find((j) => j.args[0] === 'train')!.args).not.toContain('--cores');
  });
});
