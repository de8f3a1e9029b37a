// `introllm verify`: grades predictions against reference answers with the kit's math verifier (the function the RL
// reward and evaluation call). Reads JSONL lines {"pred": <completion or answer>, "gold": <reference>} on stdin, where
// the reference may be a bare answer, a `$…$` string, a `\boxed{}` or a whole solution, and writes one JSON line per
// input line, in order: {"correct", "pred_answer", "gold_answer", "pred_parsed", "gold_parsed", "pred_method",
// "gold_method", "reason"} — the extracted answers, each side as the comparison parsed it, how each answer was found,
// and which rule decided. A malformed input line is a KitError naming the line and field (stdin:LINE); garbage *inside*
// a valid line is simply not correct.
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import type { Command } from '../cli';
import { KitError } from '../errors';
import { verifyDetailed } from '../tasks/verifier';

/** Grades one JSONL line; `where` names it in errors. Returns the output line (no newline). */
export function gradeLine(line: string, where: string): string {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (err) {
    throw new KitError(`${where}: malformed JSON: ${(err as Error).message}`);
  }
  if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new KitError(`${where}: expected a JSON object with fields 'pred' and 'gold'`);
  const rec = row as Record<string, unknown>;
  if (!('pred' in rec)) throw new KitError(`${where}: missing field 'pred'`);
  if (!('gold' in rec)) throw new KitError(`${where}: missing field 'gold'`);
  if (rec.pred !== null && typeof rec.pred !== 'string') throw new KitError(`${where}: field 'pred' must be a string or null`);
  if (typeof rec.gold !== 'string' && typeof rec.gold !== 'number') throw new KitError(`${where}: field 'gold' must be a string or a number`);
  const v = verifyDetailed(rec.pred, String(rec.gold));
  return JSON.stringify({
    correct: v.correct,
    pred_answer: v.predAnswer,
    gold_answer: v.goldAnswer,
    pred_parsed: v.predParsed,
    gold_parsed: v.goldParsed,
    pred_method: v.predMethod,
    gold_method: v.goldMethod,
    reason: v.reason,
  });
}

export const command: Command = {
  summary: 'Grade {"pred", "gold"} JSONL lines from stdin with the math verifier; one JSON verdict per line on stdout.',
  usage:
    'introllm verify < input.jsonl > verdicts.jsonl\n\n' +
    '  Each input line: {"pred": "<completion or final answer>", "gold": "<reference>"}; the reference may be a bare\n' +
    '  answer, a $...$ string, a \\boxed{} or a whole solution (both sides go through the same extraction).\n' +
    '  Each output line: {"correct": bool, "pred_answer": string|null, "gold_answer": string,\n' +
    '    "pred_parsed": string|null, "gold_parsed": string|null, "pred_method": string|null, "gold_method": string,\n' +
    '    "reason": string}: the extracted answers, each side as parsed ({1, 2} is unordered, (1, 2) ordered),\n' +
    '    how each answer was found (boxed, hash, answer-is, bare, math-span, last-number; whole) and the deciding rule.\n' +
    '  Blank input lines are skipped. A malformed line stops the run with exit status 2.',
  async run(argv: string[]): Promise<number> {
    parseArgs({ args: argv, options: {}, allowPositionals: false });
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of rl) {
      lineNo++;
      if (line.trim() === '') continue;
      process.stdout.write(`${gradeLine(line, `stdin:${lineNo}`)}\n`);
    }
    return 0;
  },
};
