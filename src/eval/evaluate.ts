// Evaluation runs: k samples per held-out problem with a given temperature controller, graded by the task's verifier,
// summarised as Avg@k / Pass@k / majority@k with bootstrap CIs over problems (src/eval/metrics.ts).
import { Decoder } from '../lm/model';
import { WASM_EVAL_KV_BYTES } from '../plan/run-plan';
import { Tokenizer } from '../lm/tokenizer';
import { TemperatureController } from '../policy/types';
import { Rng } from '../rng';
import { completionIds, rollout, Rollout } from '../rl/rollout';
import { problemPromptIds } from '../tasks/prompt';
import { EvalSet, Problem, Task } from '../tasks/types';
import { evaluateSamples, MetricReport } from './metrics';
import { ChunkRecord, EvalJournal } from './partial';

export type Grader = Pick<Task, 'verify' | 'extractAnswer' | 'encodePrompt'>;

export interface EvalOptions {
  k: number;
  maxNewTokens: number;
  tau0: number;
  /** Rows generated together (problems × k are split into chunks of this many rows). */
  batchRows: number;
  /** RL step the controller is evaluated at (EAD's schedule). */
  trainStep?: number;
  /** Keep the per-token traces (for the interpretability figures) of this many problems. */
  keepTraces?: number;
  /** KV cache bytes a chunk may take; fewer rows per chunk where needed. The run's plan sets it (eval_kv_budget_bytes,
   *  config key eval.kvBudgetBytes); callers without one get the plan's wasm budget, WASM_EVAL_KV_BYTES. */
  cacheBudgetBytes?: number;
  /** Called with (problems finished, problems in all) at the start and after every chunk. */
  onProgress?: (done: number, total: number) => void;
  /** Where finished chunks are recorded and, when the evaluation runs again, read back (src/eval/partial.ts). */
  journal?: EvalJournal;
  /** This evaluation's name in the journal (evaluateSets: one per set). */
  journalScope?: string;
}

export interface TokenTrace {
  problemId: string;
  correct: boolean;
  text: string[]; // decoded token strings
  tau: number[];
  gate: number[];
  entropy: number[];
}

export interface EvalResult {
  report: MetricReport;
  /** Per problem: its samples' correctness and extracted answers; `set` names its benchmark (evaluateSets). */
  problems: { id: string; set?: string; correct: boolean[]; answers: (string | null)[] }[];
  /** Mean τ, gate rate and mean entropy over all generated tokens. */
  tauMean: number;
  gateRate: number;
  entropyMean: number;
  meanLength: number;
  traces: TokenTrace[];
  /** Per evaluation set (evaluateSets with more than one set, or a named benchmark): its own report. */
  sets?: Record<string, { report: MetricReport; problems: number; tauMean: number; meanLength: number }>;
}

export function evaluate(
  model: Decoder,
  tok: Tokenizer,
  controller: TemperatureController,
  problems: Problem[],
  grader: Grader,
  o: EvalOptions,
  rng: Rng,
): EvalResult {
  const rows: { p: number; prompt: number[] }[] = [];
  problems.forEach((pr, p) => {
    const ids = problemPromptIds(tok, pr, grader);
    for (let j = 0; j < o.k; j++) rows.push({ p, prompt: ids });
  });
  const correct = problems.map(() => [] as boolean[]);
  const answers = problems.map(() => [] as (string | null)[]);
  const traces: TokenTrace[] = [];
  let tauSum = 0;
  let gateSum = 0;
  let entSum = 0;
  let nTok = 0;
  // At most batchRows rows at once, and no more than a KV cache of the plan's budget holds at these prompts' length: a
  // 0.6B model's cache takes 229 KB per row and position, so 64 rows of a 400-token prompt + 32 new tokens would need
  // 6.3 GB (more than wasm's whole 4 GiB heap). For the kit's tiny models the cap is far above 64 and changes nothing.
  // A chunk that can hold a whole problem holds whole problems (its k samples together): they share one prefill
  // (Decoder.prefill computes repeated rows once), and no problem's prompt is prefilled in two chunks. Seen on a 0.6B
  // model: 5-row chunks of k = 2 samples prefilled one of every two problems twice. For the kit's runs (64 rows,
  // k a power of two up to 8) nothing changes.
  const longest = rows.reduce((m, x) => Math.max(m, x.prompt.length), 0) + o.maxNewTokens;
  const fit = Math.max(1, Math.min(o.batchRows, Math.floor((o.cacheBudgetBytes ?? WASM_EVAL_KV_BYTES) / model.kvCacheBytes(1, longest))));
  const perChunk = fit >= o.k ? fit - (fit % o.k) : fit;
  // Problems whose k samples are all in, for onProgress.
  let finished = 0;
  // The chunks a journal holds already (a killed evaluation, run again): taken as they were, so that sampling goes on
  // at the next chunk with that chunk's own stream (see src/eval/partial.ts).
  const scope = o.journalScope ?? '';
  let first = 0;
  if (o.journal) {
    const recs = o.journal.recorded(scope);
    if (recs.every((rec, i) => chunkFits(rec, i, perChunk, rows.length, problems))) {
      for (const rec of recs) {
        for (const x of rec.problems) {
          correct[x.p].push(...x.correct);
          answers[x.p].push(...x.answers);
          if (correct[x.p].length === o.k) finished++;
        }
        traces.push(...rec.traces);
        ({ tau: tauSum, gate: gateSum, entropy: entSum, tokens: nTok } = rec.sums);
      }
      first = recs.length;
    } else {
      o.journal.restart(); // recorded with other chunks (another chunk size): evaluate afresh
    }
  }
  o.onProgress?.(finished, problems.length);
  for (let start = first * perChunk, chunk = first; start < rows.length; start += perChunk, chunk++) {
    const part = rows.slice(start, start + perChunk);
    const tracesBefore = traces.length;
    const chunkProblems: ChunkRecord['problems'] = [];
    const r: Rollout = rollout(
      model,
      controller,
      {
        prompts: part.map((x) => x.prompt),
        maxNewTokens: o.maxNewTokens,
        eosId: tok.eosId ?? -1,
        padId: tok.padId,
        tau0: o.tau0,
        trainStep: o.trainStep ?? 0,
        evaluation: true,
      },
      rng.fork(`eval:${chunk}`),
    );
    const T = r.tokens.length / r.batch;
    part.forEach((row, b) => {
      const text = tok.decode(completionIds(r, b, tok.eosId ?? -1));
      const ok = grader.verify(text, problems[row.p]);
      const answer = grader.extractAnswer(text);
      correct[row.p].push(ok);
      answers[row.p].push(answer);
      if (correct[row.p].length === o.k) finished++;
      if (chunkProblems.at(-1)?.p !== row.p) chunkProblems.push({ p: row.p, id: problems[row.p].id, correct: [], answers: [] });
      chunkProblems.at(-1)!.correct.push(ok);
      chunkProblems.at(-1)!.answers.push(answer);
      for (let t = 0; t < r.lengths[b]; t++) {
        tauSum += r.tau[b * T + t];
        gateSum += r.gate[b * T + t];
        entSum += r.entropy[b * T + t];
        nTok++;
      }
      if (traces.length < (o.keepTraces ?? 0) && correct[row.p].length === 1) {
        const span = (from: number) => Array.from({ length: r.lengths[b] }, (_, t) => from + t);
        traces.push({
          problemId: problems[row.p].id,
          correct: ok,
          text: span(0).map((t) => tok.decode([r.tokens[b * T + t]], { keepSpecial: true })),
          tau: span(b * T).map((i) => shortFloat32(r.tau[i])),
          gate: span(b * T).map((i) => r.gate[i]),
          entropy: span(b * T).map((i) => shortFloat32(r.entropy[i])),
        });
      }
    });
    o.journal?.append({
      scope,
      chunk,
      start,
      rows: part.length,
      problems: chunkProblems,
      traces: traces.slice(tracesBefore),
      sums: { tau: tauSum, gate: gateSum, entropy: entSum, tokens: nTok },
    });
    o.onProgress?.(finished, problems.length);
  }
  return {
    report: evaluateSamples(correct, o.k, rng.fork('bootstrap'), answers),
    problems: problems.map((pr, p) => ({ id: pr.id, correct: correct[p], answers: answers[p] })),
    tauMean: nTok ? tauSum / nTok : NaN,
    gateRate: nTok ? gateSum / nTok : NaN,
    entropyMean: nTok ? entSum / nTok : NaN,
    meanLength: nTok / rows.length,
    traces,
  };
}

/**
 * Evaluates each named set (one per benchmark) with `evaluate` and pools them: the pooled `report` and `problems` (each
 * tagged with its set) cover every problem; `sets` holds each set's own report. Traces are kept from the first sets.
 */
export function evaluateSets(
  model: Decoder,
  tok: Tokenizer,
  controller: TemperatureController,
  sets: EvalSet[],
  grader: Grader,
  o: EvalOptions,
  rng: Rng,
): EvalResult {
  const all = sets.reduce((n, s) => n + s.problems.length, 0);
  let before = 0;
  const parts = sets.map((s) => {
    const offset = before;
    before += s.problems.length;
    const onProgress = o.onProgress && ((done: number) => o.onProgress!(offset + done, all));
    return {
      name: s.name,
      r: evaluate(model, tok, controller, s.problems, grader, { ...o, onProgress, journalScope: `set:${s.name}` }, rng.fork(`set:${s.name}`)),
    };
  });
  const problems = parts.flatMap(({ name, r }) => r.problems.map((p) => ({ ...p, set: name })));
  const tokens = parts.map(({ r }) => r.meanLength * r.problems.length * o.k);
  const nTok = tokens.reduce((a, b) => a + b, 0);
  const pooled = (f: (r: EvalResult) => number) => (nTok ? parts.reduce((acc, { r }, i) => acc + (tokens[i] ? f(r) * tokens[i] : 0), 0) / nTok : NaN);
  return {
    report: evaluateSamples(
      problems.map((p) => p.correct),
      o.k,
      rng.fork('bootstrap'),
      problems.map((p) => p.answers),
    ),
    problems,
    tauMean: pooled((r) => r.tauMean),
    gateRate: pooled((r) => r.gateRate),
    entropyMean: pooled((r) => r.entropyMean),
    meanLength: nTok / (problems.length * o.k),
    traces: parts.flatMap(({ r }) => r.traces).slice(0, o.keepTraces ?? 0),
    sets: Object.fromEntries(
      parts.map(({ name, r }) => [name, { report: r.report, problems: r.problems.length, tauMean: r.tauMean, meanLength: r.meanLength }]),
    ),
  };
}

/** Whether a journal's `i`-th chunk record is the `i`-th chunk of this evaluation (same rows, same problems). */
function chunkFits(rec: ChunkRecord, i: number, perChunk: number, nRows: number, problems: Problem[]): boolean {
  const num = (x: unknown) => typeof x === 'number';
  return (
    rec.chunk === i &&
    rec.start === i * perChunk &&
    rec.start < nRows &&
    rec.rows === Math.min(perChunk, nRows - rec.start) &&
    Array.isArray(rec.problems) &&
    rec.problems.every((x) => problems[x.p]?.id === x.id && Array.isArray(x.correct) && Array.isArray(x.answers)) &&
    rec.problems.reduce((n, x) => n + x.correct.length, 0) === rec.rows &&
    Array.isArray(rec.traces) &&
    rec.sums !== null &&
    typeof rec.sums === 'object' &&
    num(rec.sums.tau) &&
    num(rec.sums.gate) &&
    num(rec.sums.entropy) &&
    num(rec.sums.tokens)
  );
}

/**
 * `x` as the shortest decimal that is still the same float32 (`x` itself when it is not a float32 value). The
 * traces' τ and entropy come from float32 tensors: written this way they take ~9 digits in eval.json instead of 17,
 * and read back as exactly the float32 values the model produced.
 */
export function shortFloat32(x: number): number {
  if (!Number.isFinite(x) || Math.fround(x) !== x) return x;
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return Number(x.toPrecision(9));
}
