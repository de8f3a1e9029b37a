// The benchmark task (the `paper` preset): sets from JSONL files, prompts through the chat template, the math verifier
// as the reward, and clear errors for a missing template, an unknown set or a bad line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, Tokenizer, writeCharTokenizer } from '../../src/lm/tokenizer';
import { Rng } from '../../src/rng';
import { createBenchmarkTask, DEFAULT_INSTRUCTION } from '../../src/tasks/benchmark-task';
import { loadBenchmark } from '../../src/tasks/benchmarks';
import { taskFromConfig } from '../../src/tasks/registry';
import { resolveConfig } from '../../src/config';
import { expectKitError, tempDir } from '../helpers/kit';

const dir = tempDir();
const dataDir = path.join(dir, 'data');
const row = (id: string, problem: string, answer: string) => JSON.stringify({ id, problem, answer, level: 3 });

function writeSet(name: string, rows: string[]): void {
  fs.writeFileSync(path.join(dataDir, `${name}.jsonl`), rows.join('\n') + '\n');
}

let chatTok: Tokenizer;
let plainTok: Tokenizer;
beforeAll(async () => {
  fs.mkdirSync(dataDir, { recursive: true });
  writeSet(
    'mytrain',
    Array.from({ length: 10 }, (_, i) => row(`tr-${i}`, `what is ${i} + 1?`, String(i + 1))),
  );
  writeSet(
    'easy',
    Array.from({ length: 5 }, (_, i) => row(`easy-${i}`, `what is ${i} * 2?`, String(2 * i))),
  );
  writeSet('hard', [row('hard-0', 'what is half of one?', '\\frac{1}{2}'), row('hard-1', 'what is 2 to the 10?', '1024')]);
  // A char tokenizer whose chat template writes BOS itself and wraps the user turn, like real instruct templates.
  const charset = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n+-*/=(),.:?{}\\';
  writeCharTokenizer(path.join(dir, 'chat'), charset);
  const cfgFile = path.join(dir, 'chat', 'tokenizer_config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  cfg.chat_template = "{{ bos_token }}{% for m in messages %}Q:{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}A:{% endif %}";
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  writeCharTokenizer(path.join(dir, 'plain'), charset);
  const plainCfg = path.join(dir, 'plain', 'tokenizer_config.json');
  const p = JSON.parse(fs.readFileSync(plainCfg, 'utf8'));
  delete p.chat_template;
  fs.writeFileSync(plainCfg, JSON.stringify(p));
  chatTok = await loadTokenizer(path.join(dir, 'chat'));
  plainTok = await loadTokenizer(path.join(dir, 'plain'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const make = (extra: object = {}) => createBenchmarkTask({ trainBenchmark: 'mytrain', evalBenchmarks: ['easy', 'hard'], dataDir, ...extra });

describe('benchmark task', () => {
  it('evaluation sets are the named files in order, each cut to its first n problems (0 = all)', () => {
    const t = make();
    const sets = t.evalSets!(3);
    expect(sets.map((s) => s.name)).toEqual(['easy', 'hard']);
    expect(sets[0].problems.map((p) => p.id)).toEqual(['easy-0', 'easy-1', 'easy-2']);
    expect(sets[1].problems.map((p) => p.id)).toEqual(['hard-0', 'hard-1']);
    expect(t.evalSets!(0)[0].problems).toHaveLength(5);
    expect(sets[0].problems[0].meta).toEqual({ set: 'easy', level: 3 });
    expect(t.trainingSet!().map((p) => p.id)).toEqual(Array.from({ length: 10 }, (_, i) => `tr-${i}`));
  });

  it('prompts are the problem plus the boxed-answer instruction; a custom instruction replaces it', () => {
    expect(make().trainingSet!()[0].prompt).toBe(`what is 0 + 1?\n\n${DEFAULT_INSTRUCTION}`);
    expect(make({ instruction: '' }).trainingSet!()[0].prompt).toBe('what is 0 + 1?');
  });

  it('generate(train) draws distinct training problems; generate(test) is the evaluation sets in order', () => {
    const t = make();
    const drawn = t.generate(new Rng(5), 'train', 6);
    expect(new Set(drawn.map((p) => p.id)).size).toBe(6);
    expect(drawn.every((p) => p.id.startsWith('tr-'))).toBe(true);
    expect(t.generate(new Rng(5), 'train', 6)).toEqual(drawn);
    expect(t.generate(new Rng(0), 'test', 7).map((p) => p.id)).toEqual(['easy-0', 'easy-1', 'easy-2', 'easy-3', 'easy-4', 'hard-0', 'hard-1']);
  });

  it('the reward is the math verifier: boxed answers, equivalent forms, the last number as a fallback', () => {
    const t = make();
    const half = t.evalSets!(0)[1].problems[0];
    expect(t.verify('so the answer is \\boxed{0.5}', half)).toBe(true);
    expect(t.verify('\\boxed{1/2}', half)).toBe(true);
    expect(t.verify('\\boxed{\\dfrac{1}{2}} and later 3', half)).toBe(true);
    expect(t.verify('\\boxed{\\frac{1}{3}}', half)).toBe(false);
    expect(t.verify('', half)).toBe(false);
    const big = t.evalSets!(0)[1].problems[1];
    expect(t.verify('2^10 = 1,024', big)).toBe(true);
    expect(t.extractAnswer('x \\boxed{\\frac{1}{2}}')).toBe('\\frac{1}{2}');
  });

  it('with a chat template the prompt is the rendered template encoded without extra specials (one BOS, from the template)', () => {
    const p = make().trainingSet!()[0];
    const ids = make().encodePrompt!(chatTok, p);
    expect(ids).toEqual([chatTok.bosId, ...chatTok.encode(`Q:${p.prompt}A:`)]);
    expect(ids.filter((i) => i === chatTok.bosId)).toHaveLength(1);
    // Plain mode (base models): [BOS] + the prompt text, no template.
    expect(make({ chatTemplate: false }).encodePrompt!(chatTok, p)).toEqual([chatTok.bosId, ...chatTok.encode(p.prompt)]);
  });

  it('a tokenizer without a chat template is a clear error that names the folder and the switch', () => {
    const p = make().trainingSet!()[0];
    expectKitError(() => make().encodePrompt!(plainTok, p), path.join(dir, 'plain'), 'no chat_template', 'task.chatTemplate=false');
  });

  it('unknown sets, an empty or repeated evaluation list, and a bad line are errors naming what is wrong', () => {
    expectKitError(() => make({ evalBenchmarks: ['easy', 'nope'] }).evalSets!(0), "unknown benchmark 'nope'", 'easy', 'hard', 'math500');
    expectKitError(() => make({ evalBenchmarks: [] }), "'task.evalBenchmarks' is empty");
    expectKitError(() => make({ evalBenchmarks: ['easy', 'easy'] }), "names 'easy' twice");
    writeSet('broken', [row('b-0', 'x', '1'), '{"id": "b-1", "problem": "y"}']);
    expectKitError(() => make({ trainBenchmark: 'broken' }).trainingSet!(), `${path.join(dataDir, 'broken.jsonl')}:2`, "missing field 'answer'");
  });

  it("the config's task section builds the task ('benchmark' → files, otherwise the synthetic registry)", () => {
    const cfg = resolveConfig({
      preset: 'smoke',
      overrides: [
        { source: 't', value: { task: { name: 'benchmark', trainBenchmark: 'mytrain', evalBenchmarks: ['hard'], dataDir, instruction: 'Box it.' } } },
      ],
    });
    const t = taskFromConfig(cfg.task);
    expect(t.name).toBe('benchmark');
    expect(t.evalSets!(0)[0].problems[0].prompt).toBe('what is half of one?\n\nBox it.');
    expect(taskFromConfig(resolveConfig({ preset: 'smoke' }).task).name).toBe('guess');
  });
});

describe('shipped data', () => {
  it('no evaluation problem of the paper preset appears in MATH train (whitespace- and case-normalised text)', () => {
    const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();
    const train = new Set(loadBenchmark('math_train').map((p) => norm(p.problem)));
    const evalSets = resolveConfig({ preset: 'paper' }).task.evalBenchmarks;
    expect(evalSets).toEqual(['aime24', 'amc23', 'math500', 'minerva_math', 'olympiadbench', 'omni_math_rule']);
    for (const name of evalSets) {
      const overlap = loadBenchmark(name)
        .filter((p) => train.has(norm(p.problem)))
        .map((p) => p.id);
      expect(overlap, name).toEqual([]);
    }
  });
});
