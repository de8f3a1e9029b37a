// Token traces whose text is the vocabulary pieces (Tokenizer.pieces) rather than each token decoded alone, so that word
// boundaries survive (decoding "▁the" alone gives "the"): the input of englishTokenClasses for τ by token class on
// real English. One rollout row per problem with the given controller; τ, gate and entropy per generated token.
import { Decoder } from '../lm/model';
import { Tokenizer } from '../lm/tokenizer';
import type { TokenTrace } from './evaluate';
import { TemperatureController } from '../policy/types';
import { Rng } from '../rng';
import { completionIds, rollout } from '../rl/rollout';
import { problemPromptIds } from '../tasks/prompt';
import type { Problem, Task } from '../tasks/types';

export function pieceTraces(
  model: Decoder,
  tok: Tokenizer,
  controller: TemperatureController,
  problems: Problem[],
  task: Pick<Task, 'verify' | 'encodePrompt'>,
  o: { maxNewTokens: number; tau0: number; batchRows?: number },
  rng: Rng,
): TokenTrace[] {
  const out: TokenTrace[] = [];
  const rows = o.batchRows ?? 64;
  for (let start = 0, chunk = 0; start < problems.length; start += rows, chunk++) {
    const part = problems.slice(start, start + rows);
    const r = rollout(
      model,
      controller,
      {
        prompts: part.map((p) => problemPromptIds(tok, p, task)),
        maxNewTokens: o.maxNewTokens,
        eosId: tok.eosId ?? -1,
        padId: tok.padId,
        tau0: o.tau0,
        trainStep: 0,
      },
      rng.fork(`pieces:${chunk}`),
    );
    const T = r.tokens.length / r.batch;
    part.forEach((p, b) => {
      const ids = Array.from(r.tokens.subarray(b * T, b * T + r.lengths[b]));
      const span = (a: Float32Array | Uint8Array) => Array.from(a.subarray(b * T, b * T + r.lengths[b]));
      out.push({
        problemId: p.id,
        correct: task.verify(tok.decode(completionIds(r, b, tok.eosId ?? -1)), p),
        text: tok.pieces(ids),
        tau: span(r.tau),
        gate: span(r.gate),
        entropy: span(r.entropy),
      });
    });
  }
  return out;
}
