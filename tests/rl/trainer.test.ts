// The RL loop in-process on a tiny random model: many steps leak no tensor, and every controller runs through a step.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config';
import { methodOverride } from '../../src/experiments/methods';
import { saveModel } from '../../src/lm/load';
import { Decoder } from '../../src/lm/model';
import { writeCharTokenizer } from '../../src/lm/tokenizer';
import { closeRun, completionLogLikByTau, controllerFor, evaluatePolicy, evaluateRun, evaluates, openRun, stepProblems, trainStep } from '../../src/rl/trainer';
import { rollout } from '../../src/rl/rollout';
import { TampoController } from '../../src/policy/tampo';
import { Rng } from '../../src/rng';
import { loadModel } from '../../src/lm/load';
import { loadTokenizer } from '../../src/lm/tokenizer';
import { getTask } from '../../src/tasks/registry';
import { createBenchmarkTask } from '../../src/tasks/benchmark-task';
import { CONTROLLER_NAMES, createController } from '../../src/policy/registry';
import { parseHfConfig } from '../../src/lm/config';
import { tempDir } from '../helpers/kit';
import { writeTinyTaskModel } from '../helpers/tiny-model';

const dir = tempDir();
const modelDir = path.join(dir, 'model');
beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  await writeTinyTaskModel(modelDir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cfgFor = (method: string, extra: object = {}) =>
  resolveConfig({
    preset: 'smoke',
    overrides: [
      { source: 'method', value: methodOverride(method) },
      { source: 'test', value: { model: { dir: modelDir }, rollout: { promptsPerStep: 2, groupSize: 2, maxNewTokens: 12 }, ...extra } },
    ],
  });

describe('trainer', () => {
  it('six steps of IntroLLM leak no tensor after the first', async () => {
    const run = await openRun(cfgFor('introllm', { schedule: { mode: 'alternate', tokenSteps: 1, tempSteps: 1 } }), path.join(dir, 'leak'));
    trainStep(run, 0);
    trainStep(run, 1); // both phases have created their Adam slots now
    const before = tf.memory().numTensors;
    for (let s = 2; s < 6; s++) trainStep(run, s);
    expect(tf.memory().numTensors).toBe(before);
    closeRun(run);
  });

  it("eval.split = 'validation' scores the validation problems (the same for every seed), never the test ones", async () => {
    const ids = async (split: string, seed: number) => {
      const run = await openRun(
        { ...cfgFor('fixed-1.0', { eval: { problems: 3, k: 1, maxNewTokens: 8, split } }), seed },
        path.join(dir, `split-${split}-${seed}`),
      );
      const ev = evaluateRun(run);
      closeRun(run);
      return ev.problems.map((p) => p.id);
    };
    const val = await ids('validation', 0);
    expect(val.every((id) => id.includes('-validation-'))).toBe(true);
    expect(await ids('validation', 1)).toEqual(val);
    expect((await ids('test', 0)).every((id) => id.includes('-test-'))).toBe(true);
  });

  it('evaluating a loaded model (introllm eval) equals evaluating an untrained run, sample for sample', async () => {
    const cfg = cfgFor('edt', { eval: { problems: 6, k: 2, maxNewTokens: 10 } });
    const run = await openRun(cfg, path.join(dir, 'eval-equiv'));
    const viaRun = evaluateRun(run);
    closeRun(run);
    const { model } = loadModel(modelDir, { trainable: false });
    const ctl = controllerFor(cfg, model.cfg.hiddenSize);
    const direct = evaluatePolicy(model, await loadTokenizer(modelDir), ctl, getTask(cfg.task.name), cfg, 0);
    ctl.dispose();
    model.dispose();
    expect(direct.problems).toEqual(viaRun.problems);
    expect(direct.report).toEqual(viaRun.report);
    expect(direct.tauMean).toBe(viaRun.tauMean);
  });

  it('creating and disposing every controller leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    for (const name of CONTROLLER_NAMES) createController(name, {}, 16, 1).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("TAMPO's ℓ_k(i) at the sampling τ is the rollout's own mean token log-prob; a training step passes it to observe()", async () => {
    const run = await openRun(cfgFor('tampo'), path.join(dir, 'tampo-loglik'));
    const fixed = createController('fixed', { fixedTau: 0.8 }, 16, 0);
    const r = rollout(
      run.model,
      fixed,
      {
        prompts: [
          [1, 5, 6],
          [1, 7],
        ],
        maxNewTokens: 6,
        eosId: 2,
        padId: 0,
        tau0: 1,
        trainStep: 0,
      },
      new Rng(3),
    );
    const ll = completionLogLikByTau(run.model, r, [0.8, 1.2], 0);
    const T = r.tokens.length / r.batch;
    for (let b = 0; b < r.batch; b++) {
      let sum = 0;
      for (let t = 0; t < r.lengths[b]; t++) sum += r.logpTok[b * T + t];
      expect(ll[b * 2]).toBeCloseTo(sum / r.lengths[b], 4);
      expect(ll[b * 2 + 1]).not.toBeCloseTo(ll[b * 2], 4);
    }
    // the step hands TAMPO one ℓ per (row, candidate), each matching completionLogLikByTau's reading
    const ctl = run.controller as TampoController;
    const seen: (Float32Array | undefined)[] = [];
    const observe = ctl.observe.bind(ctl);
    ctl.observe = (o) => {
      seen.push(o.logLikByTau);
      observe(o);
    };
    const rec = trainStep(run, 0);
    expect(rec['policy/tampo_updates']).toBe(1);
    const rows = run.cfg.rollout.promptsPerStep * run.cfg.rollout.groupSize;
    expect(seen[0]?.length).toBe(rows * ctl.taus.length);
    expect(Array.from(seen[0]!).every((x) => Number.isFinite(x) && x <= 0)).toBe(true);
    closeRun(run);
  });

  for (const method of ['fixed-0.6', 'edt', 'ead', 'tampo', 'introllm-nogate', 'introllm-categorical', 'introllm-gaussian', 'introllm-features']) {
    it(`${method}: two steps run and report finite metrics (learned controllers: φ then θ on each batch, the default schedule)`, async () => {
      const run = await openRun(cfgFor(method), path.join(dir, method));
      for (let s = 0; s < 2; s++) {
        const rec = trainStep(run, s);
        expect(rec.phase).toBe(run.controller.learned ? 'sequential' : 'token');
        expect(Number.isFinite(rec['policy/tau_mean'])).toBe(true);
        if (method === 'fixed-0.6') expect(rec['policy/tau_mean']).toBeCloseTo(0.6, 6);
      }
      closeRun(run);
    });
  }
});

// The `paper` preset's task on a model small enough to get rewards by chance: a char tokenizer over "7", " " and "\n"
// writes strings like "77 7\n7", and the verifier's last-number fallback grades them against the answer "7".
describe('trainer on the benchmark task', () => {
  const bdir = path.join(dir, 'bench');
  const dataDir = path.join(bdir, 'data');
  const benchModel = path.join(bdir, 'model');
  beforeAll(async () => {
    fs.mkdirSync(dataDir, { recursive: true });
    const rows = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${prefix}-${i}`, problem: `p${i}`, answer: '7' })).join('\n') + '\n';
    fs.writeFileSync(path.join(dataDir, 'tr.jsonl'), rows('tr', 10));
    fs.writeFileSync(path.join(dataDir, 'ev1.jsonl'), rows('ev1', 5));
    fs.writeFileSync(path.join(dataDir, 'ev2.jsonl'), rows('ev2', 2));
    fs.writeFileSync(path.join(dataDir, 'bad.jsonl'), rows('bad', 2) + '{"id": "bad-2", "answer": "7"}\n');
    writeCharTokenizer(benchModel, '7 \n');
    const cfg = parseHfConfig({
      model_type: 'qwen3',
      vocab_size: 7,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 8,
      max_position_embeddings: 256,
      bos_token_id: 1,
      eos_token_id: 2,
    });
    const m = Decoder.random(cfg, 3, { std: 0.5 });
    await saveModel(benchModel, m);
    m.dispose();
  });
  const benchCfg = (extra: object = {}) =>
    resolveConfig({
      preset: 'smoke',
      overrides: [
        { source: 'method', value: methodOverride('introllm') },
        {
          source: 'test',
          value: {
            model: { dir: benchModel },
            task: { name: 'benchmark', trainBenchmark: 'tr', evalBenchmarks: ['ev1', 'ev2'], dataDir },
            rollout: { promptsPerStep: 4, groupSize: 4, maxNewTokens: 8 },
            eval: { problems: 3, k: 2, maxNewTokens: 8 },
            ...extra,
          },
        },
      ],
    });

  it('walks the training file in seeded epochs: each epoch uses every problem once', () => {
    const cfg = benchCfg();
    const task = createBenchmarkTask({ trainBenchmark: 'tr', evalBenchmarks: ['ev1'], dataDir });
    const ids = (c: typeof cfg) => Array.from({ length: 5 }, (_, s) => stepProblems({ cfg: c, task }, s).map((p) => p.id)).flat();
    const seq = ids(cfg); // 5 steps × 4 prompts = 2 epochs of 10
    const all = Array.from({ length: 10 }, (_, i) => `tr-${i}`);
    expect([...seq.slice(0, 10)].sort()).toEqual([...all].sort());
    expect([...seq.slice(10, 20)].sort()).toEqual([...all].sort());
    expect(seq.slice(0, 10)).not.toEqual(seq.slice(10, 20));
    expect(ids(cfg)).toEqual(seq);
    expect(ids({ ...cfg, seed: 1 })).not.toEqual(seq);
  });

  it('grpo.tempEpochs = 3: a temperature step takes three Adam steps of φ on one rollout and leaves θ bit-identical', async () => {
    const snap = (vs: readonly tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));
    // The first step (same seed) whose rollout has a group with mixed rewards, so that φ gets a gradient.
    const phiAfter = async (tempEpochs: number) => {
      const run = await openRun(benchCfg({ schedule: { mode: 'temperature-only' }, grpo: { tempEpochs } }), path.join(bdir, `temp-epochs-${tempEpochs}`));
      for (let s = 0; s < 40; s++) {
        const theta0 = snap(run.theta.variables);
        const phi0 = snap(run.phi!.variables);
        const rec = trainStep(run, s);
        expect(rec['train/phi_updates']).toBe(tempEpochs);
        expect(snap(run.theta.variables)).toEqual(theta0);
        if ((rec['adv/zero_variance_groups'] as number) < 1) {
          expect(run.theta.optimizer.iterations).toBe(0);
          expect(run.phi!.optimizer.iterations).toBe((s + 1) * tempEpochs);
          const phi = snap(run.phi!.variables);
          expect(phi).not.toEqual(phi0);
          closeRun(run);
          return { step: s, phi0, phi };
        }
      }
      throw new Error('no step had a group with mixed rewards');
    };
    const once = await phiAfter(1);
    const thrice = await phiAfter(3);
    expect(thrice.step).toBe(once.step); // φ gets no gradient before: both runs see the same rollouts up to here
    expect(thrice.phi0).toEqual(once.phi0);
    expect(thrice.phi).not.toEqual(once.phi); // two more Adam steps on the same rollout
  });

  it('a token step with verifier rewards moves θ and not φ; evaluation reports each benchmark', async () => {
    const out = path.join(bdir, 'run');
    const run = await openRun(benchCfg({ schedule: { mode: 'alternate', tokenSteps: 1, tempSteps: 1 } }), out);
    const snap = (vs: tf.Variable[]) => vs.map((v) => Float32Array.from(v.dataSync()));
    const moved = (before: Float32Array[], vs: tf.Variable[]) => vs.map((v, i) => v.dataSync().some((x, j) => x !== before[i][j]));
    let checked = false;
    for (let s = 0; s < 40 && !checked; s += 2) {
      // even steps are token steps under alternate-1
      const theta = snap(run.model.variables());
      const phi = snap(run.controller.variables());
      const rec = trainStep(run, s);
      expect(rec.phase).toBe('token');
      if ((rec['adv/zero_variance_groups'] as number) < 1) {
        expect(rec['train/reward_mean']).toBeGreaterThan(0);
        expect(moved(theta, run.model.variables()).some(Boolean)).toBe(true);
        expect(moved(phi, run.controller.variables()).every((m) => !m)).toBe(true);
        checked = true;
      }
    }
    expect(checked, 'some step had a group with mixed rewards').toBe(true);
    expect(evaluates(run)).toBe(true);
    const ev = evaluateRun(run);
    closeRun(run);
    expect(Object.keys(ev.sets!)).toEqual(['ev1', 'ev2']);
    expect(ev.sets!.ev1.problems).toBe(3);
    expect(ev.sets!.ev2.problems).toBe(2);
    expect(ev.problems.map((p) => `${p.set}/${p.id}`)).toEqual(['ev1/ev1-0', 'ev1/ev1-1', 'ev1/ev1-2', 'ev2/ev2-0', 'ev2/ev2-1']);
    expect(ev.problems.every((p) => p.correct.length === 2)).toBe(true);
    const pooled = ev.problems.reduce((a, p) => a + p.correct.filter(Boolean).length / 2, 0) / 5;
    expect(ev.report.avg.value).toBeCloseTo(pooled, 12);
    const onDisk = JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'));
    expect(onDisk.sets.ev1.problems).toBe(3);
  });

  it('a finished run whose records were packed (introllm pack) is refused, not trained into', async () => {
    const out = path.join(bdir, 'packed');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'eval.json.gz'), zlib.gzipSync('{}'));
    await expect(openRun(benchCfg(), out)).rejects.toThrow(
      `${out}: a finished, packed run (eval.json.gz); it is not trained into. ` + `Restore it with \`introllm pack --unpack ${out}\``,
    );
    expect(fs.readdirSync(out)).toEqual(['eval.json.gz']);
  });

  it('a missing model folder names the config key and the fix', async () => {
    await expect(openRun(benchCfg({ model: { dir: path.join(bdir, 'no-such-model') } }), path.join(bdir, 'none'))).rejects.toThrow(
      `model folder ${path.join(bdir, 'no-such-model')} not found (no config.json; config key 'model.dir')`,
    );
    expect(fs.existsSync(path.join(bdir, 'none'))).toBe(false);
  });

  it('eval.problems = 0 evaluates all of each benchmark; a bad training line fails before a run folder exists', async () => {
    const run = await openRun(benchCfg({ eval: { problems: 0, k: 2, maxNewTokens: 4 } }), path.join(bdir, 'all'));
    expect(evaluates(run)).toBe(true);
    expect(run.task.evalSets!(run.cfg.eval.problems).map((s) => s.problems.length)).toEqual([5, 2]);
    closeRun(run);
    const out = path.join(bdir, 'bad-run');
    await expect(openRun(benchCfg({ task: { name: 'benchmark', trainBenchmark: 'bad', evalBenchmarks: ['ev1'], dataDir } }), out)).rejects.toThrow(
      `${path.join(dataDir, 'bad.jsonl')}:3: missing field 'problem'`,
    );
    expect(fs.existsSync(out)).toBe(false);
  });
});
