#!/usr/bin/env python3
"""The PyTorch eager peer of `introllm bench --peer torch` (Debian python3-torch on OpenBLAS, CPU).

Loads the same HF folder (config.json + model.safetensors, F32/BF16/F16) and measures, with the same batch, prompt
and new-token counts as the kit: KV-cache decoding at temperature 1 (a cache that grows by torch.cat, as HF's
DynamicCache does), full recompute, and training (next-token cross-entropy, forward + backward + Adam). Prints one
JSON line, with the BLAS this process actually mapped and its thread counts (`blas`): the kit runs it with
Debian's libopenblas0-pthread first on LD_LIBRARY_PATH (src/bench/torch-peer.ts) and refuses a peer that did not get
OpenBLAS. Written for this benchmark; it is not part of the kit and the tests never need it.
"""
import argparse, ctypes, json, os, resource, struct, time
import torch
import torch.nn.functional as F


def read_safetensors(path):
    # Tensor by tensor, each read straight into its own buffer (no whole-file copy), as the kit's reader does.
    out = {}
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        start = 8 + n
        for name, e in header.items():
            if name == '__metadata__':
                continue
            b, end = e['data_offsets']
            dt = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16}[e['dtype']]
            if end == b:
                out[name] = torch.zeros(e['shape'])
                continue
            raw = bytearray(end - b)
            f.seek(start + b)
            f.readinto(raw)
            out[name] = torch.frombuffer(raw, dtype=dt).reshape(e['shape']).float()
    return out


def load(folder):
    cfg = json.load(open(os.path.join(folder, 'config.json')))
    w = {}
    single = os.path.join(folder, 'model.safetensors')
    if os.path.exists(single):
        w.update(read_safetensors(single))
    else:
        index = json.load(open(os.path.join(folder, 'model.safetensors.index.json')))
        for shard in sorted(set(index['weight_map'].values())):
            w.update(read_safetensors(os.path.join(folder, shard)))
    return cfg, w


class Model(torch.nn.Module):
    def __init__(self, cfg, w):
        super().__init__()
        self.cfg = cfg
        self.h = cfg['num_attention_heads']
        self.kv = cfg.get('num_key_value_heads', self.h)
        self.hd = cfg.get('head_dim') or cfg['hidden_size'] // self.h
        self.eps = cfg.get('rms_norm_eps', 1e-6)
        self.p = torch.nn.ParameterDict({k.replace('.', '__'): torch.nn.Parameter(v) for k, v in w.items()})
        half = self.hd // 2
        self.inv_freq = 1.0 / (cfg.get('rope_theta', 10000.0) ** (torch.arange(0, self.hd, 2).float() / self.hd))
        self.qk_norm = cfg['model_type'] == 'qwen3'

    def W(self, name):
        return self.p[name.replace('.', '__')]

    def has(self, name):
        return name.replace('.', '__') in self.p

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, pos):  # x [B, heads, T, hd]; pos [T]
        f = pos[:, None].float() * self.inv_freq[None, :]
        emb = torch.cat([f, f], -1)
        cos, sin = emb.cos(), emb.sin()
        x1, x2 = x[..., : self.hd // 2], x[..., self.hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def lin(self, x, name):
        b = name + '.bias'
        return F.linear(x, self.W(name + '.weight'), self.W(b) if self.has(b) else None)

    def forward(self, ids, cache=None, start=0):
        B, T = ids.shape
        x = F.embedding(ids, self.W('model.embed_tokens.weight'))
        pos = torch.arange(start, start + T)
        new_cache = []
        for l in range(self.cfg['num_hidden_layers']):
            p = f'model.layers.{l}'
            y = self.norm(x, self.W(p + '.input_layernorm.weight'))
            q = self.lin(y, p + '.self_attn.q_proj').view(B, T, self.h, self.hd).transpose(1, 2)
            k = self.lin(y, p + '.self_attn.k_proj').view(B, T, self.kv, self.hd).transpose(1, 2)
            v = self.lin(y, p + '.self_attn.v_proj').view(B, T, self.kv, self.hd).transpose(1, 2)
            if self.qk_norm:
                q = self.norm(q, self.W(p + '.self_attn.q_norm.weight'))
                k = self.norm(k, self.W(p + '.self_attn.k_norm.weight'))
            q, k = self.rope(q, pos), self.rope(k, pos)
            if cache is not None:
                k = torch.cat([cache[l][0], k], 2)
                v = torch.cat([cache[l][1], v], 2)
            new_cache.append((k, v))
            g = self.h // self.kv
            kk = k.repeat_interleave(g, 1)
            vv = v.repeat_interleave(g, 1)
            s = q @ kk.transpose(-1, -2) / self.hd ** 0.5
            S = kk.shape[2]
            mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
            s = s.masked_fill(~mask, float('-inf'))
            o = (s.softmax(-1) @ vv).transpose(1, 2).reshape(B, T, self.h * self.hd)
            x = x + self.lin(o, p + '.self_attn.o_proj')
            y = self.norm(x, self.W(p + '.post_attention_layernorm.weight'))
            x = x + self.lin(F.silu(self.lin(y, p + '.mlp.gate_proj')) * self.lin(y, p + '.mlp.up_proj'), p + '.mlp.down_proj')
        h = self.norm(x, self.W('model.norm.weight'))
        head = self.W('lm_head.weight') if self.has('lm_head.weight') else self.W('model.embed_tokens.weight')
        return F.linear(h, head), new_cache


def blas_report():
    """Which BLAS this process runs on, read from the process itself: the BLAS/LAPACK objects mapped into it
    (/proc/self/maps, after a matMul has run), OpenBLAS's own config and thread count when it is loaded, torch's
    thread count, and a 1024² float32 matMul's GFLOP/s."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    reps, t0 = 3, time.perf_counter()
    for _ in range(reps):
        a @ b
    gflops = 2 * 1024 ** 3 * reps / (time.perf_counter() - t0) / 1e9
    libs = []
    with open('/proc/self/maps') as f:
        for line in f:
            p = line.split()[-1] if len(line.split()) >= 6 else ''
            name = os.path.basename(p)
            if any(k in name for k in ('blas', 'lapack', 'mkl_')) and p not in libs:
                libs.append(p)
    names = ' '.join(libs)
    # libblas.so.3 from an openblas folder is OpenBLAS's; from /blas/ it is the reference netlib BLAS.
    kind = ('openblas' if 'libopenblas' in names or '/openblas' in names else
            'mkl' if 'mkl_' in names else
            'reference' if any(os.path.basename(l).startswith('libblas.so') for l in libs) else 'unknown')
    config, ob_threads = None, None
    if kind == 'openblas':
        lib = ctypes.CDLL(next(l for l in libs if 'libopenblas' in l or '/openblas' in l))
        lib.openblas_get_config.restype = ctypes.c_char_p
        config = lib.openblas_get_config().decode().strip()
        ob_threads = lib.openblas_get_num_threads()
    return {'kind': kind, 'libraries': libs, 'openblas_config': config, 'openblas_threads': ob_threads,
            'torch_threads': torch.get_num_threads(), 'matmul_1024_gflops': round(gflops, 1)}


def sample(logits):
    return torch.multinomial(logits.softmax(-1), 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--prompt', type=int, default=32)
    ap.add_argument('--new', type=int, default=96)
    ap.add_argument('--train-steps', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--skip-full', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    blas = blas_report()
    t_load = time.perf_counter()
    cfg, w = load(a.model)
    m = Model(cfg, w)
    del w
    load_s = time.perf_counter() - t_load
    V = cfg['vocab_size']
    prompts = torch.randint(0, V, (a.batch, a.prompt))

    def decode(n):
        with torch.no_grad():
            t0 = time.perf_counter()
            logits, cache = m(prompts)
            tok = sample(logits[:, -1])
            t1 = time.perf_counter()
            for i in range(n):
                logits, cache = m(tok, cache, a.prompt + i)
                tok = sample(logits[:, -1])
            return t1 - t0, time.perf_counter() - t1

    decode(2)
    prefill, dec = decode(a.new)
    full = None
    if not a.skip_full:
        with torch.no_grad():
            seq = prompts
            t0 = time.perf_counter()
            for i in range(a.new):
                logits, _ = m(seq)
                seq = torch.cat([seq, sample(logits[:, -1])], 1)
            full = time.perf_counter() - t0
    seqs = torch.randint(0, V, (a.batch, a.prompt + a.new))
    opt = torch.optim.Adam(m.parameters(), lr=1e-4)

    def train_step():
        logits, _ = m(seqs[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, V), seqs[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    train = None
    if a.train_steps > 0:
        train_step()
        t0 = time.perf_counter()
        for _ in range(a.train_steps):
            train_step()
        train = (time.perf_counter() - t0) / a.train_steps
    toks = a.batch * a.new
    r = lambda x, d=1: round(x, d)
    print(json.dumps({
        'impl': f'torch {torch.__version__} eager, {blas["kind"]} BLAS, {a.threads} threads',
        'blas': blas,
        'load_ms': r(load_s * 1000),
        # Peak resident set of this process over its whole life (Linux reports ru_maxrss in KiB).
        'peak_rss_process_mb': r(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
        'prefill_ms': r(prefill * 1000),
        'decode_tokens_per_s': r(toks / dec),
        'decode_ms_per_step': r(dec * 1000 / a.new, 2),
        'full_recompute_tokens_per_s': None if full is None else r(toks / full),
        'train_tokens_per_s': None if train is None else r(a.batch * (a.prompt + a.new - 1) / train),
        'train_ms_per_step': None if train is None else r(train * 1000),
    }))


if __name__ == '__main__':
    main()
