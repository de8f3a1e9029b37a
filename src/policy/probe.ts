// Probe temperature policies: hand-written per-token rules that set τ from the class of the token about to be written.
// They are the instrument of `introllm headroom` (src/experiments/headroom.ts): if no rule of this kind beats the best
// fixed τ on a base model, a learned per-token policy has little to gain there. They are not trained and not meant for
// RL runs, so they are not in the controller registry.
//
// A probe decides τ_t before y_t is sampled, so it cannot know y_t's class; it reads the class the token will most
// likely have, from the completion so far and the model's most probable next token y* = argmax logits_t:
//   branch   the next token starts a line: a Countdown trace chooses its next move, 'back' or '####' here;
//   op       the line so far is one number ("17") and y* is an operator: the choice of the operation;
//   move     the rest of a move being written, digits and at most one operator before '=' ("8", "8-", "8-3"):
//            the rest of the choice of which two numbers to combine (mostly copying their digits from the prompt);
//   answer   the line so far starts with '#' (the final '#### <expression>' line);
//   else     the kit's token class of y* read in context (src/plots/token-class.ts: digit, operator, space, newline,
//            word, marker, answer, special): after '=' the result, the remaining numbers and 'no' / 'yes'.
// A rule maps classes to τ (τ = 0 is argmax), with a τ for every class it does not name.
//
// A controller sees no token ids (TauInputs), so a probe learns what was generated from the decoder it samples with:
// tapDecoder(model, probe) is the model itself with every decodeStep(ids) also handed to probe.feed(ids). The probe
// checks at every step that each row's fed tokens number exactly its position t, so a rollout that bypasses the tap
// (or feeds rows in another order) is a KitError, never a silently wrong context.
import * as tf from '@tensorflow/tfjs';
import { check, KitError } from '../errors';
import type { Decoder } from '../lm/model';
import { tokenClass, TokenClass } from '../tasks/token-class';
import { Rng } from '../rng';
import { checkTauInputs } from './common';
import { NonLearnedController } from './non-learned';
import { TauInputs, TauSample } from './types';

export type ProbeClass = 'branch' | 'op' | 'move' | TokenClass;

export interface ProbeRule {
  /** One line for tables and README. */
  description: string;
  /** τ for the classes it names. */
  tau: Partial<Record<ProbeClass, number>>;
  /** τ for every other class. */
  otherwise: number;
}

/** The probes `introllm headroom` runs by default. "The choice" = branch and move; "the rest" = everything else (the
 *  result after '=', the remaining numbers, the leaf verdict, line ends and the answer). In a Countdown trace the
 *  'word' class is the leaf verdict being decided ('n' of 'no' or 'y' of 'yes' after "8*4=32 ") and the letters of
 *  'back' after its 'b'. Values are round numbers picked by hand; the calm-verdict probes were added after a first
 *  look at the validation split with another sampling seed (docs/testbed.md#headroom-before-rl); explore-choice-wide
 *  was added for the 'guess' task before its base model existed, from the simulated guesser (choice τ ≈ 2 is where an
 *  ideal copy of the sum-anchored guesser of src/tasks/guess.ts succeeds most often). */
export const PROBES: Readonly<Record<string, ProbeRule>> = Object.freeze({
  'calm-digits': {
    description: 'τ 0.3 on digits, operators and the answer outside the choice of a move; 1.0 elsewhere',
    tau: { digit: 0.3, operator: 0.3, answer: 0.3 },
    otherwise: 1.0,
  },
  'calm-verdict': {
    description: 'τ 0.3 on words (the leaf verdict no / yes, the letters of back); 1.0 elsewhere',
    tau: { word: 0.3 },
    otherwise: 1.0,
  },
  'calm-verdict-digits': {
    description: 'τ 0.3 on words, digits, operators and the answer outside the choice of a move; 1.0 elsewhere',
    tau: { word: 0.3, digit: 0.3, operator: 0.3, answer: 0.3 },
    otherwise: 1.0,
  },
  'calm-rest': {
    description: 'τ 1.0 on the choice of a move (line start and the move up to "="); 0.3 on the rest',
    tau: { branch: 1.0, op: 1.0, move: 1.0 },
    otherwise: 0.3,
  },
  'explore-choice': {
    description: 'τ 1.3 on the choice of a move; 0.4 on the rest',
    tau: { branch: 1.3, op: 1.3, move: 1.3 },
    otherwise: 0.4,
  },
  'explore-choice-wide': {
    description: 'τ 2.0 on the choice of a move; 0.5 on the rest',
    tau: { branch: 2.0, op: 2.0, move: 2.0 },
    otherwise: 0.5,
  },
  'explore-op': {
    description: 'τ 2.0 on the choice of the operation; 0.5 elsewhere',
    tau: { op: 2.0 },
    otherwise: 0.5,
  },
  'explore-op-branch': {
    description: 'τ 2.0 on the choice of the operation, 1.3 where a line starts; 0.5 elsewhere',
    tau: { op: 2.0, branch: 1.3 },
    otherwise: 0.5,
  },
  'explore-branch': {
    description: 'τ 1.4 where a line starts (the next branch, back or the answer is chosen); 0.6 elsewhere',
    tau: { branch: 1.4 },
    otherwise: 0.6,
  },
  // The best probes above use τ 0.3 and 2.0, outside the head's default range [0.4, 1.6]; these keep their shape with
  // every τ inside it, so that the instruments study can ask whether the head could express a gain (added after the
  // headroom study, for that question).
  'explore-op-in-range': {
    description: 'τ 1.6 on the choice of the operation; 0.5 elsewhere (explore-op inside [0.4, 1.6])',
    tau: { op: 1.6 },
    otherwise: 0.5,
  },
  'calm-rest-in-range': {
    description: 'τ 1.0 on the choice of a move; 0.4 on the rest (calm-rest inside [0.4, 1.6])',
    tau: { branch: 1.0, op: 1.0, move: 1.0 },
    otherwise: 0.4,
  },
});

/** The probes whose every τ lies in [lo, hi] (a head with that range could act as they do). */
export function probesInRange(lo: number, hi: number): string[] {
  return Object.entries(PROBES)
    .filter(([, r]) => [...Object.values(r.tau), r.otherwise].every((t) => t !== undefined && t >= lo && t <= hi))
    .map(([n]) => n);
}

const MOVE_PREFIX = /^\d+(?:[+\-*/×÷]\d*)?$/;
const OPERATOR_TOKEN = /^[+\-*/×÷]$/;

/** The class of the next token: `text` is the completion so far, `likely` the text of the most probable next token. */
export function probeClass(text: string, likely: string): ProbeClass {
  const line = text.slice(text.lastIndexOf('\n') + 1);
  if (line === '') return 'branch';
  if (line.startsWith('#')) return 'answer';
  if (/^\d+$/.test(line) && OPERATOR_TOKEN.test(likely)) return 'op';
  if (MOVE_PREFIX.test(line)) return 'move';
  return tokenClass(likely, { text: text + likely, start: text.length });
}

/** τ of a rule for a class. */
export function probeTau(rule: ProbeRule, cls: ProbeClass): number {
  return rule.tau[cls] ?? rule.otherwise;
}

function checkRule(name: string, rule: ProbeRule): void {
  const bad = [...Object.entries(rule.tau), ['otherwise', rule.otherwise] as const].find(([, t]) => !(typeof t === 'number' && Number.isFinite(t) && t >= 0));
  if (bad) throw new KitError(`probe '${name}': τ for '${bad[0]}' must be a finite number ≥ 0 (0 = argmax), got ${bad[1]}`);
}

export class ProbeController extends NonLearnedController {
  readonly name: string;
  private texts: string[] = [];
  private fed: number[] = [];
  private readonly pieces = new Map<number, string>();

  /** decode: the text of one token id (special tokens included, e.g. '<eos>'). */
  constructor(
    name: string,
    readonly rule: ProbeRule,
    private readonly decode: (id: number) => string,
  ) {
    super();
    checkRule(name, rule);
    this.name = `probe-${name}`;
  }

  private piece(id: number): string {
    let s = this.pieces.get(id);
    if (s === undefined) this.pieces.set(id, (s = this.decode(id)));
    return s;
  }

  override beginRollout(info: { trainStep: number; batch: number }, _rng: Rng): void {
    check(Number.isInteger(info.batch) && info.batch > 0, () => `${this.name}.beginRollout: batch must be a positive integer, got ${info.batch}`);
    this.texts = new Array(info.batch).fill('');
    this.fed = new Array(info.batch).fill(0);
  }

  /** The tokens just sampled, one per rollout row (what the rollout feeds the decoder). */
  feed(ids: ArrayLike<number>): void {
    check(
      ids.length === this.texts.length,
      () =>
        `${this.name}: the decoder was fed ${ids.length} rows but the rollout has ${this.texts.length}; the probe's token tap needs one token per rollout row`,
    );
    for (let b = 0; b < ids.length; b++) {
      this.texts[b] += this.piece(ids[b]);
      this.fed[b]++;
    }
  }

  /** The completion text of a rollout row so far. */
  textOf(row: number): string {
    return this.texts[row];
  }

  act(inputs: TauInputs, _rng: Rng): TauSample {
    const N = checkTauInputs(this.name, inputs, null);
    const pos = inputs.position.dataSync();
    const best = tf.tidy(() => tf.argMax(inputs.logits, 1)).dataSync() as Int32Array;
    const tau = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      const row = inputs.rows ? inputs.rows[i] : i;
      check(
        row >= 0 && row < this.texts.length,
        () => `${this.name}.act: row ${row} is outside the rollout batch of ${this.texts.length} (call beginRollout first)`,
      );
      check(
        this.fed[row] === pos[i],
        () => `${this.name}.act: row ${row} is at position ${pos[i]} but ${this.fed[row]} tokens were fed; sample through tapDecoder(model, probe)`,
      );
      tau[i] = probeTau(this.rule, probeClass(this.texts[row], this.piece(best[i])));
    }
    return this.sampleOf(tau);
  }

  state(): unknown {
    return { controller: this.name };
  }

  loadState(state: unknown): void {
    const s = state as { controller?: unknown } | null;
    check(
      s !== null && typeof s === 'object' && s.controller === this.name,
      () => `${this.name}.loadState: expected {controller: '${this.name}'}, got ${JSON.stringify(state)}`,
    );
  }
}

/** A probe by name (PROBES), decoding tokens with `decode`. */
export function createProbe(name: string, decode: (id: number) => string): ProbeController {
  const rule = PROBES[name];
  if (!rule) throw new KitError(`unknown probe '${name}'; valid: ${Object.keys(PROBES).join(', ')}`);
  return new ProbeController(name, rule, decode);
}

/** `model` with every decodeStep(cache, ids) also reported to probe.feed(ids); everything else is the model itself. */
export function tapDecoder(model: Decoder, probe: ProbeController): Decoder {
  return new Proxy(model, {
    get(target, prop, receiver) {
      if (prop === 'decodeStep') {
        return (cache: Parameters<Decoder['decodeStep']>[0], ids: ArrayLike<number>) => {
          probe.feed(ids);
          return target.decodeStep(cache, ids);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
