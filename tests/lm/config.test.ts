// HF config.json parsing: defaults per architecture, and every field the decoder does not implement is rejected by name.
import { describe, expect, it } from 'vitest';
import { parseHfConfig, toHfConfig } from '../../src/lm/config';
import { expectKitError } from '../helpers/kit';

const base = { model_type: 'qwen2', vocab_size: 10, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2 };

describe('parseHfConfig', () => {
  it('applies the architecture defaults', () => {
    const q2 = parseHfConfig(base);
    expect(q2).toMatchObject({ numKvHeads: 2, headDim: 4, attentionBias: true, qkNorm: false, tieWordEmbeddings: true, ropeTheta: 10000 });
    const q3 = parseHfConfig({ ...base, model_type: 'qwen3', head_dim: 6 });
    expect(q3).toMatchObject({ headDim: 6, attentionBias: false, qkNorm: true });
    const ll = parseHfConfig({ ...base, model_type: 'llama', eos_token_id: [5, 7] });
    expect(ll).toMatchObject({ attentionBias: false, tieWordEmbeddings: false, eosTokenIds: [5, 7] });
  });

  it('round-trips through toHfConfig', () => {
    for (const mt of ['llama', 'qwen2', 'qwen3']) {
      const c = parseHfConfig({ ...base, model_type: mt, num_key_value_heads: 1, rope_theta: 5e5, eos_token_id: 3 });
      expect(parseHfConfig(toHfConfig(c))).toEqual(c);
    }
  });

  it('rejects what it does not implement, naming the field', () => {
    expectKitError(() => parseHfConfig({ ...base, rope_scaling: { type: 'yarn', factor: 4 } }), "'rope_scaling'", 'not implemented');
    expectKitError(() => parseHfConfig({ ...base, use_sliding_window: true }), "'use_sliding_window'");
    expectKitError(() => parseHfConfig({ ...base, hidden_act: 'gelu' }), "'hidden_act'");
    expectKitError(() => parseHfConfig({ ...base, model_type: 'mistral' }), 'unsupported model_type "mistral"', 'llama, qwen2, qwen3');
    expectKitError(() => parseHfConfig({ ...base, num_key_value_heads: 3 }), 'multiple of num_key_value_heads (3)');
    expectKitError(() => parseHfConfig({ ...base, hidden_size: 'x' }), "'hidden_size' must be a positive integer");
    expectKitError(() => parseHfConfig({ ...base, head_dim: 5 }), 'head_dim must be an even integer');
    expectKitError(() => parseHfConfig([1]), 'expected a JSON object');
  });
});
