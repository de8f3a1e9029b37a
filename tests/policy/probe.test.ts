// The probe temperature policies of `introllm headroom`: which class the next token gets in a Countdown trace, which
// τ each probe gives each class (hand-derived), and that a probe sampled through the real rollout sees exactly the
// tokens the rollout generated (and fails loudly when it is not given them).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { parseHfConfig } from '../../src/lm/config';
import { Decoder } from '../../src/lm/model';
import { createProbe, PROBES, probeClass, probesInRange, probeTau, ProbeController, tapDecoder } from '../../src/policy/probe';
import { rollout } from '../../src/rl/rollout';
import { Rng } from '../../src/rng';
import { expectKitError } from './helpers';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('probeClass', () => {
  it('reads the next token of a Countdown trace by its place in the line, else by its token class', () => {
    expect(probeClass('', '8')).toBe('branch');
    expect(probeClass('8-3=5 (1 1 5)\n', 'b')).toBe('branch');
    expect(probeClass('8-3=5 (1 1 5)\nback\n', '#')).toBe('branch');
    expect(probeClass('8', '-')).toBe('op'); // y* an operator after one number: the operation is chosen
    expect(probeClass('8-', '3')).toBe('move');
    expect(probeClass('8-3', '=')).toBe('move');
    expect(probeClass('12*3', '=')).toBe('move');
    expect(probeClass('8-3=', '5')).toBe('digit');
    expect(probeClass('8-3=5 ', '(')).toBe('marker');
    expect(probeClass('8-3=5 (1 1', ' ')).toBe('space');
    expect(probeClass('8-3=5 (1 1 5', ')')).toBe('marker');
    expect(probeClass('8-3=5 (1 1 5)', '\n')).toBe('newline');
    expect(probeClass('5*1=5 n', 'o')).toBe('marker');
    expect(probeClass('5*1=5 ', 'n')).toBe('word'); // 'no' is a marker only once written out
    expect(probeClass('back\n#', '#')).toBe('answer');
    expect(probeClass('back\n#### (8-3)', '*')).toBe('answer');
    expect(probeClass('#### 8*4', '<eos>')).toBe('answer'); // the line decides, not the token
    expect(probeClass('b', 'a')).toBe('word');
  });

  it("reads a 'guess' trace the same way: the try up to '=' is the choice, the result and verdict are the rest", () => {
    const done = '17+5=22 no\n';
    expect(probeClass(done, '1')).toBe('branch');
    expect(probeClass(`${done}1`, '7')).toBe('move');
    expect(probeClass(`${done}17`, '*')).toBe('op'); // y* is an operator: the operation is chosen here
    expect(probeClass(`${done}1`, '+')).toBe('op'); // the number "1" may be complete
    expect(probeClass(`${done}17`, '3')).toBe('move');
    expect(probeClass(`${done}17*`, '5')).toBe('move');
    expect(probeClass(`${done}17*5`, '=')).toBe('move'); // the line is still a move until '=' is written
    expect(probeClass(`${done}17*5=`, '8')).toBe('digit');
    expect(probeClass(`${done}17*5=85 `, 'y')).toBe('word'); // the verdict being decided (PROBES' 'word')
    expect(probeClass(`${done}17*5=85 yes\n#`, '#')).toBe('answer');
  });
});

describe('probe rules', () => {
  it('give each class the τ written in the rule (hand values)', () => {
    const cls = ['branch', 'op', 'move', 'digit', 'operator', 'marker', 'word', 'space', 'newline', 'answer', 'special'] as const;
    const taus = (name: string) => cls.map((c) => probeTau(PROBES[name], c));
    //                                        branch op  move digit operator marker word space newline answer special
    expect(taus('calm-digits')).toEqual([1.0, 1.0, 1.0, 0.3, 0.3, 1.0, 1.0, 1.0, 1.0, 0.3, 1.0]);
    expect(taus('calm-verdict')).toEqual([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 1.0, 1.0, 1.0, 1.0]);
    expect(taus('calm-verdict-digits')).toEqual([1.0, 1.0, 1.0, 0.3, 0.3, 1.0, 0.3, 1.0, 1.0, 0.3, 1.0]);
    expect(taus('calm-rest')).toEqual([1.0, 1.0, 1.0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]);
    expect(taus('explore-choice')).toEqual([1.3, 1.3, 1.3, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]);
    expect(taus('explore-choice-wide')).toEqual([2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(taus('explore-branch')).toEqual([1.4, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]);
    expect(taus('explore-op')).toEqual([0.5, 2.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(taus('explore-op-branch')).toEqual([1.3, 2.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(taus('explore-op-in-range')).toEqual([0.5, 1.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(taus('calm-rest-in-range')).toEqual([1.0, 1.0, 1.0, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]);
    expect(Object.keys(PROBES)).toEqual([
      'calm-digits',
      'calm-verdict',
      'calm-verdict-digits',
      'calm-rest',
      'explore-choice',
      'explore-choice-wide',
      'explore-op',
      'explore-op-branch',
      'explore-branch',
      'explore-op-in-range',
      'calm-rest-in-range',
    ]);
  });

  it('probesInRange keeps the rules whose every τ lies in the range', () => {
    expect(probesInRange(0.4, 1.6)).toEqual(['explore-choice', 'explore-branch', 'explore-op-in-range', 'calm-rest-in-range']);
    expect(probesInRange(0.5, 1.6)).toEqual(['explore-branch', 'explore-op-in-range']);
    expect(probesInRange(0.2, 2.0)).toHaveLength(11);
  });

  it('an unknown probe or a bad τ is a KitError naming it', () => {
    expectKitError(() => createProbe('calm', String), "unknown probe 'calm'", 'calm-digits');
    expectKitError(() => new ProbeController('x', { description: '', tau: { digit: -1 }, otherwise: 1 }, String), "probe 'x'", "'digit'");
  });

  it('act() follows the fed text and the most likely next token', () => {
    const vocab = ['<eos>', '8', '-', '3', '=', '5', '\n', '#'];
    const p = createProbe('calm-rest', (id) => vocab[id]);
    p.beginRollout({ trainStep: 0, batch: 2 }, new Rng(0));
    p.feed([1, 1]); // both rows: "8"
    p.feed([2, 2]); // "8-"
    p.feed([3, 3]); // "8-3"
    p.feed([4, 4]); // "8-3="
    p.feed([5, 5]); // "8-3=5"
    p.feed([6, 5]); // row 0 "8-3=5\n", row 1 "8-3=55"
    // row 0 at a line start (branch → 1.0); row 1 after '=' (most likely '5', a digit → 0.3)
    const logits = tf.tensor2d([
      [0, 0, 0, 0, 0, 9, 0, 0],
      [0, 0, 0, 0, 0, 9, 0, 0],
    ]);
    const inputs = { hidden: tf.zeros([2, 4]) as tf.Tensor2D, logits, prevTau: tf.ones([2]) as tf.Tensor1D, position: tf.fill([2], 6) as tf.Tensor1D };
    expect(Array.from(p.act(inputs, new Rng(0)).tau)).toEqual([1.0, Math.fround(0.3)]);
    expect(p.textOf(1)).toBe('8-3=55');
    // a row whose fed tokens do not match its position
    const late = { ...inputs, position: tf.fill([2], 7) as tf.Tensor1D };
    expectKitError(() => p.act(late, new Rng(0)), 'position 7', '6 tokens were fed', 'tapDecoder');
    expectKitError(() => p.feed([1]), 'fed 1 rows', 'rollout has 2');
    tf.dispose([inputs.hidden, logits, inputs.prevTau, inputs.position, late.position]);
  });
});

describe('probe through the rollout', () => {
  const cfg = parseHfConfig({
    model_type: 'qwen3',
    vocab_size: 12,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 8,
    max_position_embeddings: 64,
    bos_token_id: 1,
    eos_token_id: 2,
  });
  const vocab = ['<pad>', '<bos>', '<eos>', '8', '-', '3', '=', '5', '\n', '#', ' ', 'b'];

  it('sees the tokens the rollout samples, and its τ is the rule applied to them', () => {
    const model = Decoder.random(cfg, 1, { std: 0.5 });
    const probe = createProbe('explore-branch', (id) => vocab[id]);
    const r = rollout(
      tapDecoder(model, probe),
      probe,
      { prompts: [[1, 3], [1, 5, 7], [1]], maxNewTokens: 10, eosId: 2, padId: 0, tau0: 1, trainStep: 0 },
      new Rng(4),
    );
    const T = r.tokens.length / r.batch;
    let branches = 0;
    for (let b = 0; b < r.batch; b++) {
      // the decoder is fed every step's tokens but the last (pads once a row is done)
      expect(probe.textOf(b)).toBe(Array.from({ length: r.steps - 1 }, (_, t) => vocab[r.tokens[b * T + t]]).join(''));
      let sofar = '';
      for (let t = 0; t < r.lengths[b]; t++) {
        const atLineStart = sofar === '' || sofar.endsWith('\n');
        branches += atLineStart ? 1 : 0;
        expect(r.tau[b * T + t]).toBe(Math.fround(atLineStart ? 1.4 : 0.6));
        sofar += vocab[r.tokens[b * T + t]];
      }
    }
    expect(branches).toBeGreaterThanOrEqual(3); // every row starts at a line start
    model.dispose();
  });

  it('a rollout that bypasses the tap is a KitError, not a wrong context', () => {
    const model = Decoder.random(cfg, 1, { std: 0.5 });
    const probe = createProbe('calm-rest', (id) => vocab[id]);
    expectKitError(() => rollout(model, probe, { prompts: [[1, 3]], maxNewTokens: 4, eosId: 2, padId: 0, tau0: 1, trainStep: 0 }, new Rng(4)), 'tapDecoder');
    model.dispose();
  });
});
