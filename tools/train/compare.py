"""Greedy continuation of a prompt by the PyTorch model of a checkpoint (to compare with think4j and llama.cpp).

Usage: python3 compare.py --ckpt work/ckpt.pt (--prompt TEXT | --prompt-file F) [-n 16]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_io import Reader  # noqa: E402
from model import Config, Llama  # noqa: E402
from spm import Spm  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default='work/ckpt.pt')
    ap.add_argument('--prompt')
    ap.add_argument('--prompt-file')
    ap.add_argument('-n', type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(1)
    tok = Spm.from_gguf_meta(Reader(os.path.join(ROOT, 'models/stories260K.gguf')).meta)
    s = torch.load(a.ckpt)
    m = Llama(Config(**s['config']))
    m.load_state_dict(s['model'])
    m.eval()
    text = a.prompt if a.prompt is not None else open(a.prompt_file).read()
    ids = tok.encode(text)
    caches = [dict() for _ in m.blocks]
    logits = m(torch.tensor([ids]), caches, 0)
    out = []
    for _ in range(a.n):
        t = int(logits[0, -1].argmax())
        out.append(t)
        if t == tok.eos:
            break
        logits = m(torch.tensor([[t]]), caches, len(ids) + len(out) - 1)
    print(json.dumps({'prompt_tokens': len(ids), 'output_ids': out, 'text': tok.decode(out)}))


if __name__ == '__main__':
    main()
