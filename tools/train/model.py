"""A llama-architecture decoder laid out exactly like llama.cpp's `llama` GGUF tensors.

RoPE rotates adjacent channel pairs (2i, 2i+1), the GGML "normal" mode that llama.cpp and think4j use
for the llama architecture, so weights export without the q/k permutation HF checkpoints need.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    def __init__(self, vocab=512, dim=256, layers=4, heads=4, kv_heads=2, head_dim=64, ffn=768, ctx=4096,
                 rope_theta=10000.0, eps=1e-5, embed_std=None):
        self.vocab, self.dim, self.layers, self.heads, self.kv_heads = vocab, dim, layers, heads, kv_heads
        self.head_dim, self.ffn, self.ctx, self.rope_theta, self.eps = head_dim, ffn, ctx, rope_theta, eps
        self.embed_std = embed_std

    def to_dict(self):
        return dict(self.__dict__)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim, positions, theta):
    """cos/sin for positions of shape (T,) or (B, T), broadcastable against (B, H, T, D/2)."""
    inv = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    ang = (positions.double()[..., None] * inv).float()
    if ang.dim() == 3:
        ang = ang[:, None]
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x, cos, sin):
    # x: (B, H, T, D); pairs are adjacent channels
    x0, x1 = x[..., 0::2], x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack((r0, r1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.attn_norm = RMSNorm(c.dim, c.eps)
        self.wq = nn.Linear(c.dim, c.heads * c.head_dim, bias=False)
        self.wk = nn.Linear(c.dim, c.kv_heads * c.head_dim, bias=False)
        self.wv = nn.Linear(c.dim, c.kv_heads * c.head_dim, bias=False)
        self.wo = nn.Linear(c.heads * c.head_dim, c.dim, bias=False)
        self.ffn_norm = RMSNorm(c.dim, c.eps)
        self.gate = nn.Linear(c.dim, c.ffn, bias=False)
        self.up = nn.Linear(c.dim, c.ffn, bias=False)
        self.down = nn.Linear(c.ffn, c.dim, bias=False)
        # training only: a query head whose attention weights the next forward keeps (train_retrieval.py
        # supervises them); None keeps nothing
        self.keep_attention = None
        self.attention = None
        self.head_output = None

    def forward(self, x, cos, sin, cache=None):
        c = self.c
        B, T, _ = x.shape
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, c.heads, c.head_dim).transpose(1, 2)
        k = self.wk(h).view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)
        v = self.wv(h).view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            if 'k' in cache:
                k = torch.cat([cache['k'], k], 2)
                v = torch.cat([cache['v'], v], 2)
            cache['k'], cache['v'] = k, v
        S = k.shape[2]
        g = c.heads // c.kv_heads
        # grouped-query attention without repeating K/V: fold the query heads of a group into the time axis
        qg = q.view(B, c.kv_heads, g * T, c.head_dim)
        att = torch.matmul(qg, k.transpose(-1, -2)) / math.sqrt(c.head_dim)
        att = att.view(B, c.kv_heads, g, T, S)
        qpos = torch.arange(S - T, S)
        mask = torch.arange(S)[None, :] > qpos[:, None]
        att = att.masked_fill(mask, float('-inf'))
        att = F.softmax(att, dim=-1)
        if self.keep_attention is not None:
            h = self.keep_attention
            self.attention = att[:, h // g, h % g]
        att = att.view(B, c.kv_heads, g * T, S)
        o = torch.matmul(att, v).view(B, c.heads, T, c.head_dim)
        if self.keep_attention is not None:
            # what the kept head alone adds to the residual stream
            h = self.keep_attention
            self.head_output = o[:, h] @ self.wo.weight[:, h * c.head_dim:(h + 1) * c.head_dim].T
        o = o.transpose(1, 2).reshape(B, T, -1)
        x = x + self.wo(o)
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = nn.Embedding(c.vocab, c.dim)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.norm = RMSNorm(c.dim, c.eps)
        self.output = nn.Linear(c.dim, c.vocab, bias=False)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * c.layers) if n.endswith(('wo.weight', 'down.weight')) else 0.02
                nn.init.normal_(p, 0.0, std)
        if c.embed_std is not None:
            # token identity must stay readable from the residual stream after several layers (a copy head
            # reads it there): embeddings of 0.02 drown under the layers' outputs
            nn.init.normal_(self.embed.weight, 0.0, c.embed_std)

    def forward(self, ids, caches=None, start=0, positions=None):
        """positions (B, T) overrides start..start+T: training skips positions to reach long distances cheaply."""
        B, T = ids.shape
        if positions is None:
            positions = torch.arange(start, start + T)
        cos, sin = rope_tables(self.c.head_dim, positions, self.c.rope_theta)
        x = self.embed(ids)
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, None if caches is None else caches[i])
        return self.output(self.norm(x))

    # names as in llama.cpp's llama GGUF files
    def gguf_tensors(self):
        yield 'token_embd.weight', self.embed.weight
        yield 'output_norm.weight', self.norm.weight
        yield 'output.weight', self.output.weight
        for i, b in enumerate(self.blocks):
            p = f'blk.{i}.'
            yield p + 'attn_norm.weight', b.attn_norm.weight
            yield p + 'attn_q.weight', b.wq.weight
            yield p + 'attn_k.weight', b.wk.weight
            yield p + 'attn_v.weight', b.wv.weight
            yield p + 'attn_output.weight', b.wo.weight
            yield p + 'ffn_norm.weight', b.ffn_norm.weight
            yield p + 'ffn_gate.weight', b.gate.weight
            yield p + 'ffn_up.weight', b.up.weight
            yield p + 'ffn_down.weight', b.down.weight

    def load_gguf_tensors(self, tensors):
        with torch.no_grad():
            for name, p in self.gguf_tensors():
                p.copy_(torch.from_numpy(tensors[name]).reshape(p.shape))


def config_from_gguf(meta):
    a = meta['general.architecture']
    heads = meta[a + '.attention.head_count']
    dim = meta[a + '.embedding_length']
    return Config(vocab=len(meta['tokenizer.ggml.tokens']), dim=dim, layers=meta[a + '.block_count'], heads=heads,
                  kv_heads=meta.get(a + '.attention.head_count_kv', heads), head_dim=dim // heads,
                  ffn=meta[a + '.feed_forward_length'], ctx=meta[a + '.context_length'],
                  rope_theta=meta.get(a + '.rope.freq_base', 10000.0), eps=meta[a + '.attention.layer_norm_rms_epsilon'])
