// Benchmark of the math verifier: throughput of `introllm verify` and its behaviour on hostile input.
// Not a test: it prints measured numbers (and writes them with --out FILE as JSON) and exits 1 only when a hostile
// input throws, is judged correct or takes over a second (its least disturbed run). Usage:
// npx tsx scripts/bench-verify.ts [--lines 10000] [--repeat 1] [--out FILE]; --repeat N takes every timing N times and
// reports the range (the minimum is the least disturbed on a shared machine).
//   * throughput: N JSONL lines built from the benchmark files (each reference solution against its answer, against a
//     wrong answer, and a short boxed completion), graded once in-process through gradeLine and once end to end by
//     the CLI binary reading them on stdin (node start-up included);
//   * hostile inputs: garbage LaTeX, a 100 kB line, 500 nested braces and a few other worst cases, each timed alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { gradeLine } from '../src/commands/verify';
import { loadBenchmark, defaultDataDir } from '../src/tasks/benchmarks';
import { verifyDetailed } from '../src/tasks/verifier';

const SYMBOLIC = Array.from({ length: 64 }, (_, i) => `x^{${i}}+\\sin(y_${i})`);

/** Hostile inputs: [name, pred, gold]; every one must give a verdict of false without throwing. */
export const HOSTILE: Array<[string, string, string]> = [
  ['garbage LaTeX', '}{\\frac{$$\\boxed{\\left(((\\sqrt[\\\\^_&%#', '1'],
  ['100 kB line of text and numbers', `${'x'.repeat(50_000)}${' 1 + '.repeat(10_000)}`, '2'],
  ['100 kB of dollar signs', '$'.repeat(100_000), '1'],
  ['100 kB unclosed \\boxed{', `\\boxed{${'{'.repeat(100_000)}`, '1'],
  ['100 kB of inline spans', '$x$ and '.repeat(12_500), '1'],
  ['100 kB reference', '1', '\\frac{1}{2} '.repeat(8_500)],
  ['500 nested braces in a box', `\\boxed{${'{'.repeat(500)}1${'}'.repeat(500)}}`, '2'],
  ['500 nested braces, reference', '1', `${'{'.repeat(500)}2${'}'.repeat(500)}`],
  ['500 nested parentheses', `$${'('.repeat(500)}1${')'.repeat(500)}$`, '2'],
  ['500 nested \\frac', `$${'\\frac{'.repeat(500)}1${'}{2}'.repeat(500)}$`, '0'],
  ['500 nested \\sqrt', `\\boxed{${'\\sqrt{'.repeat(500)}2${'}'.repeat(500)}}`, '1'],
  ['300 unclosed one-argument \\frac', `${'\\frac{'.repeat(300)}1`, '1'],
  ['unclosed \\frac after "the answer:"', `The answer: ${'\\frac{'.repeat(300)}1`, '1'],
  ['2,000 chained relations', `$x${' < x'.repeat(2_000)}$`, 'x < 1'],
  ['3,000-element set', `\\boxed{\\{${'1,'.repeat(3_000)}1\\}}`, '1'],
  ['unclosed <think>, 100 kB', `<think>${'a 1 '.repeat(25_000)}`, '2'],
  [
    '64 symbolic list items vs 64 others',
    `\\boxed{${SYMBOLIC.join(', ')}}`,
    SYMBOLIC.map((s) => `${s}+1`)
      .reverse()
      .join(', '),
  ],
  [
    '16 symbolic list items vs 15 (repeats)',
    `\\boxed{${SYMBOLIC.slice(0, 16).join(', ')}}`,
    SYMBOLIC.slice(0, 15)
      .map((s) => `${s}+1`)
      .join(', '),
  ],
  ['64-part symbolic ratio', `\\boxed{${SYMBOLIC.join(' : ')}}`, SYMBOLIC.map((s) => `${s}+1`).join(' : ')],
  ['inequality against 8 intervals', `\\boxed{${'(0, 1) \\cup '.repeat(7)}(0, 1)}`, '1 \\le |t| \\le 2'],
];

function buildLines(n: number): string[] {
  const dir = defaultDataDir();
  const rows = ['math500', 'olympiadbench', 'omni_math_rule', 'gsm8k_test', 'minerva_math']
    .flatMap((b) => loadBenchmark(b, dir))
    .filter((r) => r.solution !== undefined);
  const lines: string[] = [];
  for (let i = 0; lines.length < n; i++) {
    const r = rows[i % rows.length];
    const kind = Math.floor(i / rows.length) % 3;
    if (kind === 0) lines.push(JSON.stringify({ pred: r.solution, gold: r.answer }));
    else if (kind === 1) lines.push(JSON.stringify({ pred: r.solution, gold: `${r.answer}+1` }));
    else lines.push(JSON.stringify({ pred: `<think>Let me see.</think> The answer is $\\boxed{${r.answer}}$.`, gold: r.solution }));
  }
  return lines;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '10000' },
      out: { type: 'string' },
      repeat: { type: 'string', default: '1' },
    },
  });
  const n = Number(values.lines);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(repeat) || repeat < 1) {
    console.error('bench-verify: --lines and --repeat take positive integers');
    return 2;
  }
  const lines = buildLines(n);
  const bytes = lines.reduce((s, l) => s + l.length + 1, 0);
  const span = (ms: number[], digits: number, scale = 1): string => {
    const [lo, hi] = [Math.min(...ms) / scale, Math.max(...ms) / scale];
    return ms.length === 1 ? lo.toFixed(digits) : `${lo.toFixed(digits)}-${hi.toFixed(digits)}`;
  };

  // Each measurement is taken `repeat` times; on a shared machine the minimum is the least disturbed one.
  const inProcessMs: number[] = [];
  let correct = 0;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    correct = 0;
    lines.forEach((l, i) => {
      if (JSON.parse(gradeLine(l, `line:${i + 1}`)).correct) correct++;
    });
    inProcessMs.push(performance.now() - t0);
  }

  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-verify-')), 'in.jsonl');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const bin = path.resolve(__dirname, '../bin/introllm.js');
  const cliMs: number[] = [];
  let cli: ReturnType<typeof spawnSync> | null = null;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    cli = spawnSync(process.execPath, [bin, 'verify'], { input: fs.readFileSync(file), maxBuffer: 1 << 30, encoding: 'utf8' });
    cliMs.push(performance.now() - t0);
  }
  const cliLines = String(cli!.stdout).trim().split('\n').length;
  fs.rmSync(path.dirname(file), { recursive: true, force: true });

  console.log(`throughput: ${n} lines (${(bytes / 1e6).toFixed(1)} MB), ${correct} correct${repeat > 1 ? `, each timing min-max of ${repeat} runs` : ''}`);
  console.log(`  in-process gradeLine: ${span(inProcessMs, 2, 1000)} s (${(Math.min(...inProcessMs) / n).toFixed(3)} ms/line)`);
  console.log(`  introllm verify CLI:  ${span(cliMs, 2, 1000)} s end to end, exit ${cli!.status}, ${cliLines} verdicts`);

  let bad = cli!.status !== 0 || cliLines !== n ? 1 : 0;
  const hostile: Array<{ name: string; ms: number; msAll: number[]; correct: boolean | null; error?: string }> = [];
  console.log('hostile inputs (each alone):');
  for (const [name, pred, gold] of HOSTILE) {
    let verdict: boolean | null = null;
    let error: string | undefined;
    const msAll: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const t0 = performance.now();
      try {
        verdict = verifyDetailed(pred, gold).correct;
      } catch (err) {
        error = (err as Error).message;
      }
      msAll.push(performance.now() - t0);
    }
    const ms = Math.min(...msAll);
    hostile.push({ name, ms, msAll, correct: verdict, ...(error ? { error } : {}) });
    if (error !== undefined || verdict !== false || ms > 1000) bad = 1;
    console.log(`  ${name.padEnd(38)} ${span(msAll, 1).padStart(12)} ms  ${error ? `THREW ${error}` : `correct=${verdict}`}`);
  }
  if (values.out) {
    fs.writeFileSync(values.out, `${JSON.stringify({ lines: n, bytes, correct, repeat, inProcessMs, cliMs, cliStatus: cli!.status, hostile }, null, 2)}\n`);
  }
  return bad;
}

if (require.main === module) process.exitCode = main();
