// The known-answer task: a synthetic world in which the best per-token temperature is known in closed form and depends
// only on what the temperature head can see in h_t, so that "does the kit's GRPO update make the head learn a per-token
// rule?" has a yes/no answer that does not depend on a trained model.
//
// The world. A completion is K characters (K = task.difficulty). Each generated position belongs to one of C token
// classes (C = task.optimalTau.length, 1 to 3). The class of a position is the state of the previous token: the prompt
// (five digits) sets the first class (its last digit mod C), and every correct token names the class of the next
// position. The reward is 1 iff all K characters are correct targets of their positions' classes.
//
// The model is a constructed bigram decoder (writeKnownAnswerModel): its layers add nothing (o_proj and down_proj are
// zero), so the final hidden state h_t is RMSNorm(embedding of the last token), which carries the class as a one-hot
// direction (plus a fixed-norm per-token component that the LM head ignores, so h_t differs token by token within a
// class). At a class-k position the next-token logits are τ*_k times one base table:
//   one decoy token          at  a
//   M = 6 target tokens      at  0        (the correct ones; each names the next class)
//   N = 1024 filler tokens   at −ρ·a      (ids past the tokenizer's vocabulary: they decode to no text)
//   every other token        at −1e4      (probability exactly 0 in float32)
// so that P_k(correct | τ) = M / (e^{a τ*_k / τ} + M + N e^{−ρ a τ*_k / τ}). Writing x = τ*_k / τ, the maximum over x
// is where a e^{a x} = ρ a N e^{−ρ a x}, i.e. x = ln(ρ N) / ((1 + ρ) a); the base scale a = ln(ρ N) / (1 + ρ) puts it
// at x = 1, so the optimum of class k is exactly τ = τ*_k: a decoy that wins when τ is too low, a crowd of fillers that
// wins when τ is too high. A wrong token (decoy or filler) leads to a dead state whose only token is EOS, so a failed
// completion is shorter than K characters. The reward is a product over positions of independent per-position events,
// so the per-position optimum is the per-class τ*_k whatever the other positions do.
//
// This is a designed test of the optimiser and the head, not a claim about language: see
// docs/temperature-head.md#a-known-answer-task.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { saveModelFolder, WeightSource } from '../lm/checkpoint';
import { DecoderConfig, expectedWeights } from '../lm/config';
import { writeCharTokenizer } from '../lm/tokenizer';
import { Rng } from '../rng';
import { problemId, splitOf } from './split';
import type { Problem, Split, Task } from './types';

/** Correct targets per class (split evenly over the next classes: 6 is divisible by 1, 2 and 3). */
export const KA_TARGETS = 6;
/** Filler tokens (extra model ids with no text). */
export const KA_FILLERS = 1024;
/** ρ: the fillers sit ρ times further below the targets than the decoy sits above them. With M = 6 and N = 1024,
 *  ρ = 6 gives P(correct) = 0.60 at the optimum, and a peak wide enough for both ends of the default τ range. */
export const KA_RHO = 6;
/** The base scale a, which puts every class's optimum at x = τ*_k / τ = 1 (see the file comment). */
export const KA_BASE_A = Math.log(KA_RHO * KA_FILLERS) / (1 + KA_RHO);
/** Logit of the tokens a state never emits: e^(−1e4/τ) is exactly 0 in float32 for any τ ≤ 100. */
const NEVER = -1e4;
/** Digits of a prompt. */
const PROMPT_DIGITS = 5;
/** The model's width, and the norm of the per-token component of an embedding outside the class directions. */
const HIDDEN = 16;
const TOKEN_NOISE = 0.5;
/** Class letters: class k's six targets, then its decoy. */
const LETTERS = 'abcdefghijklmnopqrstu';
const CHARSET = '0123456789' + LETTERS;
/** Version of the construction: part of the model folder's hash, so a change never reuses an old folder. */
const MODEL_VERSION = 1;

export interface KnownAnswerSpec {
  /** τ*_k of each class, in the order of the classes (1 to 3 classes). */
  optimalTau: number[];
  /** K: scored positions per completion. */
  positions: number;
}

export function checkKnownAnswerSpec(s: KnownAnswerSpec, where = 'known-answer'): void {
  const t = s.optimalTau;
  if (!Array.isArray(t) || t.length < 1 || t.length > 3 || !t.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0.05 && x <= 20)) {
    throw new KitError(`${where}: task.optimalTau must list 1 to 3 temperatures in [0.05, 20], one per token class, got ${JSON.stringify(t)}`);
  }
  if (!Number.isInteger(s.positions) || s.positions < 1 || s.positions > 64) {
    throw new KitError(`${where}: task.difficulty (the scored positions per completion) must be an integer in 1..64, got ${s.positions}`);
  }
}

/** Class names, in order: A, B, C. */
export function classNames(spec: KnownAnswerSpec): string[] {
  return spec.optimalTau.map((_, k) => String.fromCharCode(65 + k));
}

/** Class k's six target letters and its decoy. */
function classLetters(k: number): { targets: string; decoy: string } {
  const o = k * (KA_TARGETS + 1);
  return { targets: LETTERS.slice(o, o + KA_TARGETS), decoy: LETTERS[o + KA_TARGETS] };
}

/** The class a target letter leads to: the j-th target of any class leads to class j mod C. */
function successor(letter: string, C: number): number | null {
  const i = LETTERS.indexOf(letter);
  if (i < 0 || i % (KA_TARGETS + 1) === KA_TARGETS || Math.floor(i / (KA_TARGETS + 1)) >= C) return null;
  return (i % (KA_TARGETS + 1)) % C;
}

/** P(correct token | class with optimum τ*, sampled at τ), the closed form of the file comment. */
export function successProbability(optimalTau: number, tau: number): number {
  const x = optimalTau / tau;
  const a = KA_BASE_A;
  return KA_TARGETS / (Math.exp(a * x) + KA_TARGETS + KA_FILLERS * Math.exp(-KA_RHO * a * x));
}

/** The class of the first generated position of a prompt: its last digit mod C. */
function firstClass(prompt: string, C: number): number {
  const d = prompt.trim().slice(-1);
  if (!/^[0-9]$/.test(d)) throw new KitError(`known-answer: a prompt must end with a digit, got ${JSON.stringify(prompt)}`);
  return Number(d) % C;
}

/**
 * The class of each generated position, given each generated token's text in order (a completion's characters, or a
 * rollout's token pieces), K at most: the first from the prompt, each next one from the previous correct token; null
 * from the first wrong token on.
 */
export function positionClasses(spec: KnownAnswerSpec, prompt: string, pieces: readonly string[]): (number | null)[] {
  const C = spec.optimalTau.length;
  const out: (number | null)[] = [];
  let k: number | null = firstClass(prompt, C);
  for (const piece of pieces.slice(0, spec.positions)) {
    out.push(k);
    if (k === null) continue;
    // A filler has no text ('' is in every string, so the length is checked): a wrong token like any other.
    k = piece.length === 1 && classLetters(k).targets.includes(piece) ? successor(piece, C) : null;
  }
  return out;
}

export function createKnownAnswerTask(spec: KnownAnswerSpec): Task {
  checkKnownAnswerSpec(spec);
  const C = spec.optimalTau.length;
  const K = spec.positions;
  const verify = (completion: string, problem: Problem): boolean => {
    // The first K characters are graded (a wrong token ends the completion, so a failure is never followed by text).
    const chars = Array.from(completion.trim()).slice(0, K);
    if (chars.length < K) return false;
    const cls = positionClasses(spec, problem.prompt, chars);
    return chars.every((ch, i) => cls[i] !== null && classLetters(cls[i]!).targets.includes(ch));
  };
  return {
    name: 'known-answer',
    description: `${K} characters from ${C} token classes whose best temperatures are ${spec.optimalTau.join(', ')} (a test of the temperature head)`,
    generate(rng: Rng, split: Split, n: number): Problem[] {
      if (!Number.isInteger(n) || n < 0) throw new KitError(`known-answer: n must be a non-negative integer, got ${n}`);
      const out: Problem[] = [];
      const seen = new Set<string>();
      for (let tries = 0; out.length < n; tries++) {
        if (tries > 200 * n + 2000) throw new KitError(`known-answer: could only generate ${out.length} of ${n} distinct ${split} problems`);
        const prompt = Array.from({ length: PROMPT_DIGITS }, () => String(rng.range(0, 9))).join('');
        if (splitOf(`ka|${prompt}`) !== split || seen.has(prompt)) continue;
        seen.add(prompt);
        // One correct completion: the first target letter that keeps the class, at every position.
        let k = firstClass(prompt, C);
        let solution = '';
        for (let i = 0; i < K; i++) {
          const { targets } = classLetters(k);
          const ch = Array.from(targets).find((t) => successor(t, C) === k)!;
          solution += ch;
          k = successor(ch, C)!;
        }
        out.push({ id: problemId('known-answer', split, prompt), prompt, answer: solution, solution, meta: { firstClass: firstClass(prompt, C) } });
      }
      return out;
    },
    verify: (completion, problem) => {
      try {
        return verify(completion, problem);
      } catch {
        return false;
      }
    },
    extractAnswer: (completion) => (completion.trim().length > 0 ? completion.trim() : null),
    tokenClasses: (problem, pieces) => {
      const names = classNames(spec);
      return positionClasses(spec, problem.prompt, pieces).map((k) => (k === null ? null : names[k]));
    },
  };
}

/** The constructed decoder's shape (llama, one layer, untied head). */
function decoderConfig(vocabSize: number, positions: number): DecoderConfig {
  return {
    modelType: 'llama',
    vocabSize,
    hiddenSize: HIDDEN,
    intermediateSize: 16,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 2,
    headDim: HIDDEN / 2,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    maxPositions: Math.max(64, PROMPT_DIGITS + positions + 8),
    tieWordEmbeddings: false,
    attentionBias: false,
    qkNorm: false,
    bosTokenId: 1,
    eosTokenIds: [2],
  };
}

/**
 * The weights of the constructed bigram decoder, HF names and layouts. Token ids: 0–3 the char tokenizer's specials,
 * then the characters of CHARSET, then KA_FILLERS fillers. State s (0..C−1: class s is next; C: dead) is embedding
 * direction s; a token's embedding is its state's unit vector plus a fixed-norm random vector in the other HIDDEN − C − 1
 * directions, so every embedding has the same RMS and the final norm scales the state direction by the same h_s.
 */
function knownAnswerWeights(spec: KnownAnswerSpec): { cfg: DecoderConfig; source: WeightSource } {
  const C = spec.optimalTau.length;
  const text = 4 + CHARSET.length;
  const V = text + KA_FILLERS;
  const cfg = decoderConfig(V, spec.positions);
  const d = HIDDEN;
  const dead = C;
  const idOf = (ch: string) => 4 + CHARSET.indexOf(ch);
  // The state each token leads to.
  const stateOf = new Int32Array(V).fill(dead);
  for (let digit = 0; digit <= 9; digit++) stateOf[idOf(String(digit))] = digit % C;
  stateOf[1] = 0; // BOS (prompts always end with a digit; any state would do)
  for (let k = 0; k < C; k++) for (const ch of classLetters(k).targets) stateOf[idOf(ch)] = successor(ch, C)!;
  const rng = new Rng(7).fork('known-answer-embedding');
  const embed = new Float32Array(V * d);
  const free = d - (C + 1);
  for (let v = 0; v < V; v++) {
    embed[v * d + stateOf[v]] = 1;
    const noise = Array.from({ length: free }, () => rng.next() * 2 - 1);
    const norm = Math.hypot(...noise) || 1;
    noise.forEach((x, j) => (embed[v * d + C + 1 + j] = (TOKEN_NOISE * x) / norm));
  }
  // RMSNorm(e) = e / sqrt(mean(e²) + eps): every embedding has sum of squares 1 + TOKEN_NOISE².
  const hState = 1 / Math.sqrt((1 + TOKEN_NOISE * TOKEN_NOISE) / d + cfg.rmsNormEps);
  // LM head [V, d]: column s holds state s's logits / hState; the other columns are zero.
  const head = new Float32Array(V * d);
  const setLogit = (v: number, s: number, logit: number) => (head[v * d + s] = logit / hState);
  for (let v = 0; v < V; v++) for (let s = 0; s <= dead; s++) setLogit(v, s, NEVER);
  setLogit(2, dead, 0); // the dead state emits EOS only
  for (let k = 0; k < C; k++) {
    const tau = spec.optimalTau[k];
    const { targets, decoy } = classLetters(k);
    setLogit(idOf(decoy), k, tau * KA_BASE_A);
    for (const ch of targets) setLogit(idOf(ch), k, 0);
    for (let f = 0; f < KA_FILLERS; f++) setLogit(text + f, k, -tau * KA_RHO * KA_BASE_A);
  }
  const shapes = expectedWeights(cfg);
  const source: WeightSource = {
    shapes,
    read: (name) => {
      if (name === 'model.embed_tokens.weight') return embed;
      if (name === 'lm_head.weight') return head;
      const n = shapes.get(name)!.reduce((a, b) => a * b, 1);
      // Norms are 1; every projection is 0, so each layer adds nothing to the residual stream.
      return new Float32Array(n).fill(name.endsWith('norm.weight') ? 1 : 0);
    },
  };
  return { cfg, source };
}

/** The folder of a spec's model under `root`: one subfolder per (construction version, spec). */
export function knownAnswerModelDir(root: string, spec: KnownAnswerSpec): string {
  const key = JSON.stringify({ v: MODEL_VERSION, optimalTau: spec.optimalTau, positions: spec.positions });
  return path.join(root, `known-answer-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`);
}

/**
 * Writes the spec's model folder under `root` (config.json, model.safetensors, the char tokenizer, known-answer.json)
 * unless it is already there, and returns it. Written into a temporary folder and renamed, so a concurrent run or a kill
 * never leaves a half-written folder in its place.
 */
export function writeKnownAnswerModel(root: string, spec: KnownAnswerSpec): string {
  checkKnownAnswerSpec(spec);
  const dir = knownAnswerModelDir(root, spec);
  if (fs.existsSync(path.join(dir, 'known-answer.json'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const { cfg, source } = knownAnswerWeights(spec);
  saveModelFolder(tmp, cfg, source);
  writeCharTokenizer(tmp, CHARSET);
  fs.writeFileSync(
    path.join(tmp, 'known-answer.json'),
    JSON.stringify({ version: MODEL_VERSION, ...spec, targetsPerClass: KA_TARGETS, fillers: KA_FILLERS, rho: KA_RHO, baseA: KA_BASE_A }, null, 2) + '\n',
  );
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, 'known-answer.json'))) throw new KitError(`${dir}: cannot write the known-answer model (${(e as Error).message})`);
  }
  return dir;
}
