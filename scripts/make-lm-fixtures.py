#!/usr/bin/python3
"""Reference fixtures for the TypeScript decoder: tiny random Llama / Qwen2 / Qwen3 models, saved as Hugging Face
model folders (config.json + model.safetensors), with logits and final hidden states computed by an independent
PyTorch implementation of the HF forward pass (written here from the published architecture; the `transformers`
package is not installed on the build machine).

Run:  /usr/bin/python3 scripts/make-lm-fixtures.py      (needs only torch + numpy; output is deterministic)
Writes tests/fixtures/lm/<arch>-<f32|bf16>/{config.json, model.safetensors, reference.json}.

The forward pass, per the HF modeling files' conventions:
  h = embed_tokens[ids]
  per layer:  x = RMSNorm(h) ; q, k, v = x Wq^T (+bq), x Wk^T (+bk), x Wv^T (+bv)      (bias: qwen2)
              qwen3: q, k = RMSNorm_head_dim(q) * q_norm, RMSNorm_head_dim(k) * k_norm   (before RoPE)
              RoPE "rotate_half": inv_freq = 1 / theta^(arange(0, hd, 2) / hd), angle = pos * inv_freq,
                 cos/sin = cat(angle, angle); q' = q cos + rotate_half(q) sin, rotate_half(x) = cat(-x2, x1)
              grouped-query attention: head i uses kv head i // (heads / kv_heads); causal softmax(q k^T / sqrt(hd)) v
              h = h + o_proj(attn) ; h = h + down(silu(gate(RMSNorm(h))) * up(RMSNorm(h)))
  hidden = RMSNorm_final(h) ; logits = hidden lm_head^T  (lm_head = embed_tokens when tied)
  RMSNorm(x) = x * rsqrt(mean(x^2) + eps) * w
The stored reference is computed in float32 (what the kit computes); the script also runs the same forward in float64
and prints the float32 error, a guide to the tolerance tests can expect. The BF16 fixtures hold the same weights
rounded to bfloat16, and their reference is computed in float32 from those rounded weights.
"""
import json
import os
import struct

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'fixtures', 'lm')

VOCAB = 61
ARCHS = {
    # llama: untied head, grouped-query attention (4 heads share 2 kv heads), head_dim = hidden / heads = 6.
    'llama': dict(hidden=24, layers=2, heads=4, kv_heads=2, head_dim=None, inter=40, theta=10000.0, eps=1e-5,
                  tied=False, bias=False, qk_norm=False),
    # qwen2: tied embeddings, q/k/v biases, 4 heads share 1 kv head, rope_theta 1e6.
    'qwen2': dict(hidden=24, layers=2, heads=4, kv_heads=1, head_dim=None, inter=40, theta=1e6, eps=1e-6,
                  tied=True, bias=True, qk_norm=False),
    # qwen3: explicit head_dim 16 (hidden / heads would be 4), per-head q_norm / k_norm, untied.
    'qwen3': dict(hidden=16, layers=2, heads=4, kv_heads=2, head_dim=16, inter=32, theta=1e6, eps=1e-6,
                  tied=False, bias=False, qk_norm=True),
}
SEQ_LENS = (7, 4)


def head_dim(a):
    return a['head_dim'] or a['hidden'] // a['heads']


def make_weights(arch, a, seed):
    """Random weights, HF names and PyTorch layouts (Linear weight is [out, in])."""
    g = torch.Generator().manual_seed(seed)
    std = 0.2

    def randn(*shape, scale=std):
        return torch.randn(*shape, generator=g, dtype=torch.float32) * scale

    def norm(n):
        return 1.0 + randn(n, scale=0.1)

    d, hd, h, kv, f = a['hidden'], head_dim(a), a['heads'], a['kv_heads'], a['inter']
    w = {'model.embed_tokens.weight': randn(VOCAB, d, scale=0.5)}  # larger embeddings: O(1) logits when tied
    for l in range(a['layers']):
        p = f'model.layers.{l}'
        w[f'{p}.input_layernorm.weight'] = norm(d)
        w[f'{p}.self_attn.q_proj.weight'] = randn(h * hd, d)
        w[f'{p}.self_attn.k_proj.weight'] = randn(kv * hd, d)
        w[f'{p}.self_attn.v_proj.weight'] = randn(kv * hd, d)
        if a['bias']:
            w[f'{p}.self_attn.q_proj.bias'] = randn(h * hd)
            w[f'{p}.self_attn.k_proj.bias'] = randn(kv * hd)
            w[f'{p}.self_attn.v_proj.bias'] = randn(kv * hd)
        if a['qk_norm']:
            w[f'{p}.self_attn.q_norm.weight'] = norm(hd)
            w[f'{p}.self_attn.k_norm.weight'] = norm(hd)
        w[f'{p}.self_attn.o_proj.weight'] = randn(d, h * hd)
        w[f'{p}.post_attention_layernorm.weight'] = norm(d)
        w[f'{p}.mlp.gate_proj.weight'] = randn(f, d)
        w[f'{p}.mlp.up_proj.weight'] = randn(f, d)
        w[f'{p}.mlp.down_proj.weight'] = randn(d, f)
    w['model.norm.weight'] = norm(d)
    if not a['tied']:
        w['lm_head.weight'] = randn(VOCAB, d)
    return w


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(w, a, ids, dtype):
    """ids: list of ints (one sequence, no padding) → (logits [T, V], hidden [T, D]) in `dtype`."""
    w = {k: v.to(dtype) for k, v in w.items()}
    d, hd, h, kv = a['hidden'], head_dim(a), a['heads'], a['kv_heads']
    eps, t = a['eps'], len(ids)
    x = w['model.embed_tokens.weight'][torch.tensor(ids)]  # [T, D]
    inv_freq = 1.0 / (a['theta'] ** (torch.arange(0, hd, 2, dtype=torch.int64).to(dtype) / hd))
    ang = torch.outer(torch.arange(t, dtype=dtype), inv_freq)  # [T, hd/2]
    emb = torch.cat((ang, ang), dim=-1)
    cos, sin = emb.cos(), emb.sin()  # [T, hd]
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    for l in range(a['layers']):
        p = f'model.layers.{l}'
        y = rms_norm(x, w[f'{p}.input_layernorm.weight'], eps)

        def proj(name):
            out = y @ w[f'{p}.self_attn.{name}.weight'].T
            return out + w[f'{p}.self_attn.{name}.bias'] if a['bias'] else out

        q = proj('q_proj').view(t, h, hd)
        k = proj('k_proj').view(t, kv, hd)
        v = proj('v_proj').view(t, kv, hd)
        if a['qk_norm']:
            q = rms_norm(q, w[f'{p}.self_attn.q_norm.weight'], eps)
            k = rms_norm(k, w[f'{p}.self_attn.k_norm.weight'], eps)
        q = q * cos[:, None, :] + rotate_half(q) * sin[:, None, :]
        k = k * cos[:, None, :] + rotate_half(k) * sin[:, None, :]
        rep = h // kv
        k = k.repeat_interleave(rep, dim=1)  # head i ← kv head i // rep
        v = v.repeat_interleave(rep, dim=1)
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)  # [H, T, hd]
        scores = (q @ k.transpose(1, 2)) / (hd ** 0.5)
        scores = scores.masked_fill(mask, float('-inf'))
        attn = torch.softmax(scores, dim=-1) @ v  # [H, T, hd]
        attn = attn.transpose(0, 1).reshape(t, h * hd)
        x = x + attn @ w[f'{p}.self_attn.o_proj.weight'].T
        y = rms_norm(x, w[f'{p}.post_attention_layernorm.weight'], eps)
        gate = y @ w[f'{p}.mlp.gate_proj.weight'].T
        up = y @ w[f'{p}.mlp.up_proj.weight'].T
        x = x + (torch.nn.functional.silu(gate) * up) @ w[f'{p}.mlp.down_proj.weight'].T
    hidden = rms_norm(x, w['model.norm.weight'], eps)
    head = w['model.embed_tokens.weight'] if a['tied'] else w['lm_head.weight']
    return hidden @ head.T, hidden


def hf_config(arch, a):
    archs = {'llama': 'LlamaForCausalLM', 'qwen2': 'Qwen2ForCausalLM', 'qwen3': 'Qwen3ForCausalLM'}
    c = {
        'architectures': [archs[arch]],
        'model_type': arch,
        'vocab_size': VOCAB,
        'hidden_size': a['hidden'],
        'intermediate_size': a['inter'],
        'num_hidden_layers': a['layers'],
        'num_attention_heads': a['heads'],
        'num_key_value_heads': a['kv_heads'],
        'hidden_act': 'silu',
        'max_position_embeddings': 128,
        'initializer_range': 0.02,
        'rms_norm_eps': a['eps'],
        'rope_theta': a['theta'],
        'rope_scaling': None,
        'tie_word_embeddings': a['tied'],
        'attention_dropout': 0.0,
        'use_cache': True,
        'bos_token_id': 1,
        'eos_token_id': 2,
    }
    if arch == 'llama':
        c.update(attention_bias=False, mlp_bias=False, pretraining_tp=1)
    if arch in ('qwen2', 'qwen3'):
        c.update(use_sliding_window=False, sliding_window=None, max_window_layers=a['layers'])
    if arch == 'qwen3':
        c.update(head_dim=a['head_dim'], attention_bias=False)
    return c


def write_safetensors(path, tensors, dtype):
    """tensors: name → float32 torch tensor; dtype 'F32' or 'BF16'. Header space-padded to a multiple of 8."""
    header, blobs, off = {'__metadata__': {'format': 'pt'}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if dtype == 'F32':
            raw = t.numpy().astype('<f4').tobytes()
        else:
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().astype('<i2').tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hb = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hb += b' ' * (-len(hb) % 8)
    with open(path, 'wb') as fh:
        fh.write(struct.pack('<Q', len(hb)))
        fh.write(hb)
        for raw in blobs:
            fh.write(raw)


def rounded(t):
    """Nested lists with ~7 significant digits (float32 carries about 7)."""
    return [[float('%.7g' % v) for v in row] for row in t.tolist()]


def main():
    torch.manual_seed(0)
    for i, (arch, a) in enumerate(ARCHS.items()):
        weights = make_weights(arch, a, seed=1000 + i)
        g = torch.Generator().manual_seed(2000 + i)
        seqs = [torch.randint(0, VOCAB, (n,), generator=g).tolist() for n in SEQ_LENS]
        for dt in ('F32', 'BF16'):
            w = weights if dt == 'F32' else {k: v.to(torch.bfloat16).to(torch.float32) for k, v in weights.items()}
            out = os.path.join(ROOT, f'{arch}-{dt.lower()}')
            os.makedirs(out, exist_ok=True)
            cfg = hf_config(arch, a)
            cfg['torch_dtype'] = 'float32' if dt == 'F32' else 'bfloat16'
            with open(os.path.join(out, 'config.json'), 'w') as fh:
                json.dump(cfg, fh, indent=2)
                fh.write('\n')
            write_safetensors(os.path.join(out, 'model.safetensors'), w, dt)
            ref = {'ids': seqs, 'logits': [], 'hidden': []}
            max_logit, f32_err = 0.0, 0.0
            for ids in seqs:
                logits, hidden = forward(w, a, ids, torch.float32)
                logits64, _ = forward(w, a, ids, torch.float64)
                ref['logits'].append(rounded(logits))
                ref['hidden'].append(rounded(hidden))
                max_logit = max(max_logit, logits.abs().max().item())
                f32_err = max(f32_err, (logits.double() - logits64).abs().max().item())
            with open(os.path.join(out, 'reference.json'), 'w') as fh:
                json.dump(ref, fh, separators=(',', ':'))
                fh.write('\n')
            size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
            print(f'{arch}-{dt.lower()}: max |logit| {max_logit:.3f}, float32 vs float64 max |dlogit| {f32_err:.2e}, '
                  f'{size / 1024:.1f} KiB')


if __name__ == '__main__':
    main()
