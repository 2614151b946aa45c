"""Writes a training checkpoint as a llama-architecture GGUF file that think4j and llama.cpp load.

The tokenizer (a 512-piece SentencePiece vocabulary with byte fallback and single-digit tokens) is the
bundled stories260K model's, copied verbatim, so both engines already tokenize it identically.

Usage: python3 export_gguf.py --ckpt work/ckpt.pt --out ../../models/tiny-retrieval.gguf [--f16]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_io as G  # noqa: E402
from model import Config, Llama  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default='work/ckpt.pt')
    ap.add_argument('--out', default=os.path.join(ROOT, 'models/tiny-retrieval.gguf'))
    ap.add_argument('--f16', action='store_true', help='store 2-D weights as F16 (norms stay F32)')
    a = ap.parse_args()
    s = torch.load(a.ckpt)
    c = Config(**s['config'])
    m = Llama(c)
    m.load_state_dict(s['model'])
    src = G.Reader(os.path.join(ROOT, 'models/stories260K.gguf')).meta
    w = G.Writer()
    w.add('general.architecture', G.STR, 'llama')
    w.add('general.name', G.STR, 'tiny-retrieval')
    w.add('general.description', G.STR, f'needle retrieval toy model, tools/train, seed {s["seed"]}, step {s["step"]}')
    w.add('llama.context_length', G.U32, c.ctx)
    w.add('llama.embedding_length', G.U32, c.dim)
    w.add('llama.feed_forward_length', G.U32, c.ffn)
    w.add('llama.block_count', G.U32, c.layers)
    w.add('llama.attention.head_count', G.U32, c.heads)
    w.add('llama.attention.head_count_kv', G.U32, c.kv_heads)
    w.add('llama.rope.dimension_count', G.U32, c.head_dim)
    w.add('llama.rope.freq_base', G.F32, float(c.rope_theta))
    w.add('llama.attention.layer_norm_rms_epsilon', G.F32, float(c.eps))
    w.add('tokenizer.ggml.model', G.STR, 'llama')
    w.add('tokenizer.ggml.tokens', G.ARR, src['tokenizer.ggml.tokens'], G.STR)
    w.add('tokenizer.ggml.scores', G.ARR, [float(x) for x in src['tokenizer.ggml.scores']], G.F32)
    w.add('tokenizer.ggml.token_type', G.ARR, src['tokenizer.ggml.token_type'], G.I32)
    for k in ('unknown_token_id', 'bos_token_id', 'eos_token_id'):
        w.add('tokenizer.ggml.' + k, G.U32, src['tokenizer.ggml.' + k])
    w.add('general.file_type', G.U32, 1 if a.f16 else 0)
    for name, p in m.gguf_tensors():
        t = p.detach().float().numpy()
        w.add_tensor(name, t, G.GGML_F16 if a.f16 and t.ndim == 2 else G.GGML_F32)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    w.write(a.out)
    print(f'{a.out}: step {s["step"]}, {os.path.getsize(a.out):,} bytes')


if __name__ == '__main__':
    main()
