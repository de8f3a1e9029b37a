// `introllm sft`: trains the kit's tiny base model from scratch on a synthetic task's worked traces (the warm-up
// before RL) and writes it as a Hugging Face folder with the kit's character tokenizer. Resumable: run the same
// command again on the same --out after a kill.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../backend';
import type { Command } from '../cli';
import { evaluate } from '../eval/evaluate';
import { KitError } from '../errors';
import { ONE_RECORD_PER_LINE, writeJsonAtomic } from '../io/atomic';
import { parseHfConfig } from '../lm/config';
import { saveModel } from '../lm/load';
import { Decoder } from '../lm/model';
import { loadTokenizer, writeCharTokenizer } from '../lm/tokenizer';
import { createController } from '../policy/registry';
import { Rng } from '../rng';
import { createParamGroup, setLearningRate } from '../rl/grpo/optim';
import { learningRate, sftBatch, SftOptions, sftStep } from '../rl/sft';
import { getTask, taskNames } from '../tasks/registry';
import { SYNTHETIC_CHARSET } from '../tasks/types';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint';
import { Progress } from '../train/progress';
import { MetricsLog, openRunDir } from '../train/run-dir';
import { intFlag, parseFlags, requireFlag } from './args';

/** The kit's tiny decoder: Qwen3-shaped (so the kit's own models exercise q/k norms), ~0.4M parameters. */
export function tinyShape(vocabSize: number, o: { hidden: number; layers: number; heads: number; kvHeads: number; ffn: number; maxPositions: number }) {
  return {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: vocabSize,
    hidden_size: o.hidden,
    intermediate_size: o.ffn,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    num_key_value_heads: o.kvHeads,
    head_dim: o.hidden / o.heads,
    max_position_embeddings: o.maxPositions,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: true,
    hidden_act: 'silu',
    bos_token_id: 1,
    eos_token_id: 2,
  };
}

function floatFlag(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!(x > 0)) throw new KitError(`--${name} must be a positive number, got '${v}'`);
  return x;
}

/** The flags' defaults; the usage is made from them. */
const DEFAULTS = {
  task: 'countdown',
  difficulty: 1,
  steps: 1500,
  batch: 32,
  lr: '2e-3',
  seed: 0,
  hidden: 96,
  layers: 4,
  heads: 4,
  'kv-heads': 2,
  ffn: 256,
  'eval-problems': 200,
};

export const command: Command = {
  summary: 'Train the tiny base model on a synthetic task (SFT warm-up before RL); resumable.',
  usage:
    `introllm sft --out DIR [--task ${taskNames()
      .filter((t) => t !== 'stories')
      .join('|')} (default: ${DEFAULTS.task})] ` +
    Object.entries(DEFAULTS)
      .filter(([k]) => k !== 'task')
      .map(([k, v]) => `[--${k} ${v}]`)
      .join(' ') +
    ' [--backend NAME]\n\n' +
    "  The kit's default testbed model, data/models/tiny-guess, was made with --task guess (the command is in its README).",
  async run(argv) {
    const f = parseFlags(argv, {
      out: { type: 'string' },
      task: { type: 'string', default: DEFAULTS.task },
      difficulty: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      hidden: { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      ffn: { type: 'string' },
      'eval-problems': { type: 'string' },
      backend: { type: 'string' },
    });
    const out = requireFlag(f, 'out');
    const task = getTask(f.task as string);
    if (task.name === 'stories')
      throw new KitError(
        `--task stories has no worked solutions to learn from (and needs more than the kit's character set): it is meant for a pretrained model such as data/models/stories260K`,
      );
    const seed = intFlag(f, 'seed', DEFAULTS.seed, 0);
    const opts: SftOptions = {
      difficulty: intFlag(f, 'difficulty', DEFAULTS.difficulty),
      batch: intFlag(f, 'batch', DEFAULTS.batch),
      steps: intFlag(f, 'steps', DEFAULTS.steps),
      lr: floatFlag(f.lr, 'lr', Number(DEFAULTS.lr)),
      warmupSteps: 50,
      maxGradNorm: 1.0,
    };
    const shape = {
      hidden: intFlag(f, 'hidden', DEFAULTS.hidden),
      layers: intFlag(f, 'layers', DEFAULTS.layers),
      heads: intFlag(f, 'heads', DEFAULTS.heads),
      kvHeads: intFlag(f, 'kv-heads', DEFAULTS['kv-heads']),
      ffn: intFlag(f, 'ffn', DEFAULTS.ffn),
      maxPositions: 512,
    };
    const evalProblems = intFlag(f, 'eval-problems', DEFAULTS['eval-problems'], 0);
    const backend = await initBackend(f.backend as string | undefined);
    const runDir = path.join(out, 'training');
    const runConfig = { kind: 'sft', task: task.name, seed, ...opts, shape, evalProblems, charset: SYNTHETIC_CHARSET };
    const resumed = openRunDir(runDir, runConfig);
    writeCharTokenizer(out, SYNTHETIC_CHARSET);
    const tok = await loadTokenizer(out);
    const cfg = parseHfConfig(tinyShape(tok.vocabSize, shape));
    const model = Decoder.random(cfg, seed, { std: 0.05 });
    const group = createParamGroup('theta', model.variables(), { learningRate: opts.lr });
    const log = new MetricsLog(path.join(runDir, 'metrics.jsonl'));
    let start = 0;
    if (resumed) {
      const st = await loadCheckpoint(runDir, { variables: { theta: model.variables() }, optimizers: [group] });
      start = st ? (st.step as number) : 0;
      log.truncateAfter(start);
      if (start > 0) process.stderr.write(`introllm sft: resuming ${runDir} after step ${start}\n`);
    }
    console.error(`introllm sft: ${task.name} d${opts.difficulty}, ${model.numParams()} parameters, ${opts.steps} steps of ${opts.batch} on ${backend.name}`);
    const progress = new Progress('sft', opts.steps, start, 25);
    for (let step = start; step < opts.steps; step++) {
      const t0 = performance.now();
      const lr = learningRate(opts, step);
      setLearningRate(group, lr);
      const r = sftStep(model, group, tok, sftBatch(task, seed, step, opts), opts.maxGradNorm);
      const ms = performance.now() - t0;
      log.append({ step: step + 1, 'train/loss': r.loss, 'train/grad_norm': r.gradNorm, 'train/lr': lr, 'time/step_ms': ms, 'train/target_tokens': r.tokens });
      if ((step + 1) % 25 === 0 || step + 1 === opts.steps)
        await saveCheckpoint(runDir, { variables: { theta: model.variables() }, optimizers: [group], state: { step: step + 1 } });
      progress.update(step + 1, { loss: r.loss, 'ms/step': ms });
    }
    await saveModel(out, model);
    if (evalProblems > 0) {
      const problems = task.generate(new Rng(seed).fork('sft-eval'), 'test', evalProblems, opts.difficulty);
      const result: Record<string, unknown> = {};
      for (const [name, tau] of [
        ['greedy', 0],
        ['tau1', 1],
      ] as const) {
        const ctl = createController('fixed', { fixedTau: tau }, cfg.hiddenSize, seed);
        const ev = evaluate(model, tok, ctl, problems, task, { k: tau === 0 ? 1 : 4, maxNewTokens: 160, tau0: 1, batchRows: 64 }, new Rng(seed).fork(name));
        result[name] = { accuracy: ev.report.avg, pass: ev.report.pass, k: ev.report.k, mean_length: ev.meanLength };
        ctl.dispose();
      }
      writeJsonAtomic(path.join(runDir, 'eval.json'), result, ONE_RECORD_PER_LINE);
      console.log(JSON.stringify({ model: out, steps: opts.steps, eval: result }));
    }
    model.dispose();
    if (!fs.existsSync(path.join(out, 'model.safetensors'))) throw new KitError(`sft: ${out}/model.safetensors was not written`);
    return 0;
  },
};
