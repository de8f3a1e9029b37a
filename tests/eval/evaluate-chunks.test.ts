// Evaluation chunks are capped by the KV cache's memory (a 0.6B model's cache is 229 KB per row and position): the cap
// gives exactly the results of asking for that many rows per chunk, rounded down to whole problems (k rows each) when
// one fits, and the kit's tiny models are far below it.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config';
import { evaluate } from '../../src/eval/evaluate';
import { planFor, runningBackend } from '../../src/plan/gather';
import { WASM_EVAL_KV_BYTES } from '../../src/plan/run-plan';
import { loadModel } from '../../src/lm/load';
import { loadTokenizer } from '../../src/lm/tokenizer';
import { createController } from '../../src/policy/registry';
import { Rng } from '../../src/rng';
import { problemPromptIds } from '../../src/rl/sft';
import { getTask } from '../../src/tasks/registry';

beforeAll(async () => {
  await initBackend(process.env.INTROLLM_TEST_BACKEND ?? 'wasm', { log: () => {} });
});

describe('evaluate: rows per chunk', () => {
  it('a cache budget of r rows gives the results of batchRows = r, both rounded down to whole problems; the default budget leaves a tiny model at 64 rows', async () => {
    const dir = 'data/models/tiny-guess';
    const { model } = loadModel(dir, { trainable: false });
    const tok = await loadTokenizer(dir);
    const task = getTask('guess');
    const problems = task.generate(new Rng(3), 'test', 3, 1);
    const ctl = createController('fixed', { fixedTau: 1 }, model.cfg.hiddenSize, 0);
    const o = { k: 4, maxNewTokens: 24, tau0: 1 };
    const longest = Math.max(...problems.map((p) => problemPromptIds(tok, p, task).length)) + o.maxNewTokens;
    // 4 layers × 2 KV heads × head_dim 24 × (k, v) × 4 bytes = 1536 bytes per row and position.
    expect(model.kvCacheBytes(1, longest)).toBe(1536 * longest);
    expect(Math.floor(WASM_EVAL_KV_BYTES / model.kvCacheBytes(1, 512))).toBeGreaterThan(64);
    // The tiny preset's plan hands evaluate() what it always had: 64 rows per chunk and, on wasm, 768 MiB of KV cache.
    const plan = planFor(resolveConfig({ preset: 'tiny' }), { backend: runningBackend() });
    expect(plan.eval_rows_max).toBe(64);
    if (plan.backend === 'wasm') expect(plan.eval_kv_budget_bytes).toBe(768 * 2 ** 20);
    // A budget of 9 rows with k = 4 takes 8: whole problems per chunk; so does batchRows = 9.
    const capped = evaluate(model, tok, ctl, problems, task, { ...o, batchRows: 64, cacheBudgetBytes: model.kvCacheBytes(9, longest) }, new Rng(1));
    const five = evaluate(model, tok, ctl, problems, task, { ...o, batchRows: 8 }, new Rng(1));
    expect(evaluate(model, tok, ctl, problems, task, { ...o, batchRows: 9 }, new Rng(1)).problems).toEqual(five.problems);
    const all = evaluate(model, tok, ctl, problems, task, { ...o, batchRows: 64 }, new Rng(1));
    const dflt = evaluate(model, tok, ctl, problems, task, { ...o, batchRows: plan.eval_rows_max, cacheBudgetBytes: plan.eval_kv_budget_bytes }, new Rng(1));
    expect(capped.problems).toEqual(five.problems);
    expect(capped.meanLength).toBe(five.meanLength);
    expect(dflt.problems).toEqual(all.problems);
    expect(dflt.meanLength).toBe(all.meanLength);
    // A budget below one problem (k rows) runs as many rows as fit, below one row one row at a time.
    const three = evaluate(model, tok, ctl, problems, task, { ...o, batchRows: 64, cacheBudgetBytes: model.kvCacheBytes(3, longest) }, new Rng(1));
    expect(three.problems).toEqual(evaluate(model, tok, ctl, problems, task, { ...o, batchRows: 3 }, new Rng(1)).problems);
    const one = evaluate(model, tok, ctl, problems, task, { ...o, batchRows: 64, cacheBudgetBytes: 1 }, new Rng(1));
    expect(one.problems).toEqual(evaluate(model, tok, ctl, problems, task, { ...o, batchRows: 1 }, new Rng(1)).problems);
    ctl.dispose();
    model.dispose();
  });
});
