#!/usr/bin/python3
"""PyTorch reference for the converted stories260K model (data/models/stories260K/, written by
`introllm convert --from llama2c`): logits, a greedy continuation and llama2.c's tokenization of test strings.

Run:  /usr/bin/python3 scripts/make-stories260k-fixture.py     (torch + numpy only; output is deterministic)
Reads data/models/stories260K/source/{stories260K_v1.bin, tok512.bin} (the llama2.c originals) and the converted
data/models/stories260K/{config.json, model.safetensors}; writes tests/fixtures/stories260k/reference.json.

Two forward passes, written here from the published architecture (neither file is read through the kit's code):
  * llama2c_forward on the ORIGINAL llama2.c checkpoint, with llama2.c's RoPE: each head's dims (2i, 2i+1) are rotated
    as a complex number by angle pos * theta^(-2i/hd);
  * hf_forward on the CONVERTED safetensors, with Hugging Face Llama's rotate-half RoPE (dims i and i + hd/2).
The script checks that the two agree (so the q/k row permutation of the converter is right), then stores the
converted folder's float32 logits as the reference the TypeScript decoder must match. The greedy continuation is
argmax decoding as llama2.c's run.c does it at temperature 0 (stopping at BOS, which ends a story in TinyStories).
The tokenizer reference is llama2.c's encode (run.c's `encode`): prepend a space unless the text is empty, look up
each UTF-8 character (else its bytes + 3), then merge the adjacent pair whose concatenation has the highest score,
leftmost on ties, until none is in the vocabulary; BOS first.
"""
import json
import os
import struct

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
SRC = os.path.join(ROOT, 'data', 'models', 'stories260K', 'source')
CONVERTED = os.path.join(ROOT, 'data', 'models', 'stories260K')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'stories260k')

# Strings whose llama2.c encoding the TypeScript test compares with the converted tokenizer.json.
TOKENIZER_CASES = [
    '', 'Once upon a time', ' ', '  two  spaces ', 'Hello, world! "Yes," she said; (ok?) -- no...',
    'line one\nline two\n\n\tTabbed', 'café naïve façade résumé', 'Ünïcödé: ñ ø å ß', 'emoji 😀🐶 and 🇫🇷 flags',
    '中文字符', 'numbers 12345 and 3.14', "Lily's mom said, \"Let's go!\"", 'The end.', 'a', 'zzzzzzzz', '\u00a0nbsp',
]

PROMPT = 'Once upon a time'
GREEDY_STEPS = 200  # new tokens at most (llama2.c's run.c default is 256 positions in all)


def read_checkpoint(path):
    raw = open(path, 'rb').read()
    magic, version = struct.unpack_from('<Ii', raw, 0)
    assert magic == 0x616b3432 and version == 1, (hex(magic), version)
    dim, hidden, layers, heads, kv_heads, vocab, seq = struct.unpack_from('<7i', raw, 8)
    shared = raw[36]
    cfg = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads, vocab=vocab, seq=seq, shared=shared)
    data = np.frombuffer(raw, dtype='<f4', offset=256)
    kv_dim = kv_heads * dim // heads
    off = 0

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        t = torch.from_numpy(data[off:off + n].copy()).reshape(*shape)
        off += n
        return t

    w = {}
    w['rms_att'] = [take(dim) for _ in range(layers)]
    w['rms_ffn'] = [take(dim) for _ in range(layers)]
    w['rms_final'] = take(dim)
    w['emb'] = take(vocab, dim)
    for name, shape in [('wq', (dim, dim)), ('wk', (kv_dim, dim)), ('wv', (kv_dim, dim)), ('wo', (dim, dim)),
                        ('w1', (hidden, dim)), ('w2', (dim, hidden)), ('w3', (hidden, dim))]:
        w[name] = [take(*shape) for _ in range(layers)]
    w['cls'] = w['emb'] if shared else take(vocab, dim)
    assert off == data.size, (off, data.size)
    return cfg, w


def rms(x, weight, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def attention(q, k, v, heads, kv_heads):
    t, hd = q.shape[0], q.shape[-1]
    rep = heads // kv_heads
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
    s = (q @ k.transpose(1, 2)) / (hd ** 0.5)
    s = s.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float('-inf'))
    return (torch.softmax(s, -1) @ v).transpose(0, 1).reshape(t, -1)


def llama2c_forward(cfg, w, ids, dtype=torch.float32):
    """llama2.c semantics: interleaved RoPE pairs on the original weights. Returns logits [T, V]."""
    w = {k: ([x.to(dtype) for x in v] if isinstance(v, list) else v.to(dtype)) for k, v in w.items()}
    dim, heads, kvh = cfg['dim'], cfg['heads'], cfg['kv_heads']
    hd, t = dim // heads, len(ids)
    freq = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=dtype) / hd))  # [hd/2]
    ang = torch.outer(torch.arange(t, dtype=dtype), freq)
    cos, sin = ang.cos()[:, None, :], ang.sin()[:, None, :]  # [T, 1, hd/2]

    def rope(x):  # x [T, H, hd]: rotate (x[2i], x[2i+1])
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).reshape(x.shape)

    x = w['emb'][torch.tensor(ids)]
    for l in range(cfg['layers']):
        y = rms(x, w['rms_att'][l])
        q = rope((y @ w['wq'][l].T).view(t, heads, hd))
        k = rope((y @ w['wk'][l].T).view(t, kvh, hd))
        v = (y @ w['wv'][l].T).view(t, kvh, hd)
        x = x + attention(q, k, v, heads, kvh) @ w['wo'][l].T
        y = rms(x, w['rms_ffn'][l])
        x = x + (torch.nn.functional.silu(y @ w['w1'][l].T) * (y @ w['w3'][l].T)) @ w['w2'][l].T
    return rms(x, w['rms_final']) @ w['cls'].T


def read_safetensors(path):
    raw = open(path, 'rb').read()
    (n,) = struct.unpack_from('<Q', raw, 0)
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        assert e['dtype'] == 'F32', e
        b, end = e['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(raw[8 + n + b:8 + n + end], dtype='<f4').copy()).reshape(e['shape'])
    return out


def hf_forward(c, w, ids, dtype=torch.float32):
    """Hugging Face Llama semantics (rotate-half RoPE) on the converted folder. Returns logits [T, V]."""
    w = {k: v.to(dtype) for k, v in w.items()}
    heads, kvh, hd, t = c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], len(ids)
    inv = 1.0 / (c['rope_theta'] ** (torch.arange(0, hd, 2, dtype=torch.int64).to(dtype) / hd))
    ang = torch.outer(torch.arange(t, dtype=dtype), inv)
    emb = torch.cat((ang, ang), -1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]

    def rope(x):
        half = hd // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), -1) * sin

    eps = c['rms_norm_eps']
    x = w['model.embed_tokens.weight'][torch.tensor(ids)]
    for l in range(c['num_hidden_layers']):
        p = f'model.layers.{l}'
        y = rms(x, w[f'{p}.input_layernorm.weight'], eps)
        q = rope((y @ w[f'{p}.self_attn.q_proj.weight'].T).view(t, heads, hd))
        k = rope((y @ w[f'{p}.self_attn.k_proj.weight'].T).view(t, kvh, hd))
        v = (y @ w[f'{p}.self_attn.v_proj.weight'].T).view(t, kvh, hd)
        x = x + attention(q, k, v, heads, kvh) @ w[f'{p}.self_attn.o_proj.weight'].T
        y = rms(x, w[f'{p}.post_attention_layernorm.weight'], eps)
        g = y @ w[f'{p}.mlp.gate_proj.weight'].T
        x = x + (torch.nn.functional.silu(g) * (y @ w[f'{p}.mlp.up_proj.weight'].T)) @ w[f'{p}.mlp.down_proj.weight'].T
    head = w['model.embed_tokens.weight'] if c['tie_word_embeddings'] else w['lm_head.weight']
    return rms(x, w['model.norm.weight'], eps) @ head.T


def read_vocab(path, n):
    raw = open(path, 'rb').read()
    off, pieces, scores = 4, [], []
    for _ in range(n):
        s, ln = struct.unpack_from('<fi', raw, off)
        off += 8
        pieces.append(raw[off:off + ln])
        scores.append(s)
        off += ln
    assert off == len(raw)
    return pieces, scores


def llama2c_encode(text, pieces, scores):
    """run.c's encode(text, bos=1, eos=0), on bytes."""
    lookup = {p: i for i, p in enumerate(pieces)}
    toks = [1]
    if text:
        toks.append(lookup[b' '])
    for ch in text:
        b = ch.encode('utf-8')
        toks.extend([lookup[b]] if b in lookup else [x + 3 for x in b])
    while True:
        best, best_id, best_i = -1e10, -1, -1
        for i in range(1, len(toks) - 1):  # never merge across the BOS
            m = lookup.get(pieces[toks[i]] + pieces[toks[i + 1]])
            if m is not None and scores[m] > best:
                best, best_id, best_i = scores[m], m, i
        if best_i < 0:
            return toks
        toks[best_i:best_i + 2] = [best_id]


def llama2c_decode(ids, pieces):
    out = b''
    prev = 1
    for t in ids:
        p = pieces[t]
        if prev == 1 and p.startswith(b' '):
            p = p[1:]
        if len(p) == 6 and p.startswith(b'<0x') and p.endswith(b'>'):
            p = bytes([int(p[3:5], 16)])
        out += p
        prev = t
    return out.decode('utf-8', errors='replace')


def rounded(t):
    return [[float('%.6g' % v) for v in row] for row in t.tolist()]


def main():
    cfg, w = read_checkpoint(os.path.join(SRC, 'stories260K_v1.bin'))
    pieces, scores = read_vocab(os.path.join(SRC, 'tok512.bin'), cfg['vocab'])
    hfc = json.load(open(os.path.join(CONVERTED, 'config.json')))
    hfw = read_safetensors(os.path.join(CONVERTED, 'model.safetensors'))

    # The greedy continuation, llama2.c semantics on the original file.
    prompt = llama2c_encode(PROMPT, pieces, scores)
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(GREEDY_STEPS):
            nxt = int(torch.argmax(llama2c_forward(cfg, w, ids)[-1]))
            if nxt == 1:
                break
            ids.append(nxt)
    greedy = ids[len(prompt):]
    text = llama2c_decode(ids[1:], pieces)

    g = torch.Generator().manual_seed(0)
    seqs = {
        'lily': llama2c_encode('Once upon a time, there was a little girl named Lily. She loved to play outside.', pieces, scores),
        'random': [1] + torch.randint(0, cfg['vocab'], (15,), generator=g).tolist(),
        'greedy': ids,  # the whole greedy story: positions up to len(ids) - 1
    }
    ref = {'prompt': PROMPT, 'prompt_ids': prompt, 'greedy_ids': greedy, 'greedy_text': text, 'logits': {}}
    with torch.no_grad():
        for name, s in seqs.items():
            ours = hf_forward(hfc, hfw, s)
            orig = llama2c_forward(cfg, w, s)
            d64 = (hf_forward(hfc, hfw, s, torch.float64) - llama2c_forward(cfg, w, s, torch.float64)).abs().max().item()
            d32 = (ours - orig).abs().max().item()
            print(f'{name}: {len(s)} tokens, |logit| max {ours.abs().max().item():.2f}; converted (rotate-half) vs '
                  f'original (interleaved): float64 {d64:.1e}, float32 {d32:.1e}')
            assert d64 < 1e-9, 'the converted folder does not compute what the llama2.c checkpoint computes'
            # Full logits for the short sequences; for the long one every 32nd position (the fixture stays small).
            keep = list(range(len(s))) if name != 'greedy' else list(range(0, len(s), 32)) + [len(s) - 1]
            ref['logits'][name] = {'ids': s, 'positions': keep, 'logits': rounded(ours[keep]),
                                   'argmax': ours.argmax(-1).tolist()}
    ref['tokenizer'] = [{'text': t, 'ids': llama2c_encode(t, pieces, scores)} for t in TOKENIZER_CASES]
    for case in ref['tokenizer']:
        assert llama2c_decode(case['ids'][1:], pieces) == case['text'] or '\u00a0' in case['text'], case
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'reference.json'), 'w') as fh:
        json.dump(ref, fh, separators=(',', ':'), ensure_ascii=False)
        fh.write('\n')
    print(f'greedy: {len(greedy)} new tokens{" (stopped at BOS)" if len(greedy) < GREEDY_STEPS else ""}')
    print(text)
    print(f'wrote {os.path.relpath(os.path.join(OUT, "reference.json"), ROOT)} '
          f'({os.path.getsize(os.path.join(OUT, "reference.json")) / 1024:.0f} KiB)')


if __name__ == '__main__':
    main()
