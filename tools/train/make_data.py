"""Builds the training corpora of tiny-retrieval (nothing here is evaluation text):

  stories.txt  children's stories sampled from the bundled stories260K model (seeded, temperature 1)
  docs.txt     English paragraphs from Debian's own documentation (/usr/share/common-licenses, READMEs)
  words.txt    key words for training needles: words of those two corpora minus the evaluation keys
               (src/main/resources/dev/think4j/eval/ruler-keys.txt)

Usage: python3 make_data.py --out work/data [--stories 3072] [--seed 1]
"""
import argparse
import glob
import gzip
import hashlib
import os
import re
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_io import Reader  # noqa: E402
from model import Llama, config_from_gguf  # noqa: E402
from spm import Spm  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
EVAL_KEYS = os.path.join(ROOT, 'src/main/resources/dev/think4j/eval/ruler-keys.txt')


def eval_keys():
    return {w.strip() for w in open(EVAL_KEYS) if w.strip() and not w.startswith('#')}


@torch.no_grad()
def sample_stories(n, seed, length=512, batch=64, temperature=1.0):
    r = Reader(os.path.join(ROOT, 'models/stories260K.gguf'))
    tok = Spm.from_gguf_meta(r.meta)
    m = Llama(config_from_gguf(r.meta))
    m.load_gguf_tensors(r.tensors)
    m.eval()
    g = torch.Generator().manual_seed(seed)
    out = []
    for b0 in range(0, n, batch):
        t0 = time.time()
        caches = [dict() for _ in m.blocks]
        ids = torch.full((batch, 1), tok.bos, dtype=torch.long)
        seq = [ids]
        logits = m(ids, caches, 0)
        for pos in range(1, length):
            p = torch.softmax(logits[:, -1] / temperature, -1)
            nxt = torch.multinomial(p, 1, generator=g)
            seq.append(nxt)
            logits = m(nxt, caches, pos)
        allids = torch.cat(seq, 1).tolist()
        for row in allids:
            # a new BOS starts a new story; the last one is cut off mid-way, so it is dropped
            parts, cur = [], []
            for t in row[1:]:
                if t in (tok.bos, tok.eos):
                    parts.append(cur)
                    cur = []
                else:
                    cur.append(t)
            for p in parts:
                s = tok.decode(p).strip()
                if len(s) > 100:
                    out.append(s)
        print(f'stories batch {b0 // batch}: {len(out)} stories, {time.time() - t0:.1f}s', flush=True)
    return out


def doc_files():
    files = sorted(glob.glob('/usr/share/common-licenses/*'))
    for pat in ('README*', '*.md', '*.md.gz', '*.txt', '*.txt.gz'):
        files += sorted(glob.glob('/usr/share/doc/*/' + pat))
    return [f for f in files if os.path.isfile(f)]


def docs_paragraphs(limit_chars):
    seen, out, total = set(), [], 0
    for f in doc_files():
        try:
            raw = gzip.open(f).read() if f.endswith('.gz') else open(f, 'rb').read()
            text = raw.decode('utf-8')
        except (OSError, UnicodeDecodeError):
            continue
        for para in re.split(r'\n\s*\n', text):
            p = ' '.join(para.split())
            if len(p) < 120 or p in seen:
                continue
            letters = sum(c.isalpha() or c in " .,;:'\"()-!?" for c in p)
            if letters / len(p) < 0.93 or not p[0].isupper() or sum(c.isdigit() for c in p) > 0.02 * len(p):
                continue
            seen.add(p)
            out.append(p)
            total += len(p)
            if total > limit_chars:
                return out
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='work/data')
    ap.add_argument('--stories', type=int, default=64, help='rows of 512 sampled tokens')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--docs-chars', type=int, default=3_000_000)
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('TRAIN_THREADS', '2')))
    os.makedirs(a.out, exist_ok=True)
    docs = docs_paragraphs(a.docs_chars)
    open(os.path.join(a.out, 'docs.txt'), 'w').write('\n\n'.join(docs) + '\n')
    print(f'docs: {len(docs)} paragraphs, {sum(map(len, docs))} chars', flush=True)
    stories = sample_stories(a.stories, a.seed)
    open(os.path.join(a.out, 'stories.txt'), 'w').write('\n\n'.join(stories) + '\n')
    counts = {}
    for text in (docs, stories):
        for w in re.findall(r"[A-Za-z]+", ' '.join(text)):
            w = w.lower()
            if 3 <= len(w) <= 10:
                counts[w] = counts.get(w, 0) + 1
    banned = eval_keys()
    words = sorted(w for w, c in counts.items() if c >= 2 and w not in banned)
    open(os.path.join(a.out, 'words.txt'), 'w').write('\n'.join(words) + '\n')
    print(f'words: {len(words)} (minus {len(banned)} evaluation keys)')
    for n in ('docs.txt', 'stories.txt', 'words.txt'):
        h = hashlib.sha256(open(os.path.join(a.out, n), 'rb').read()).hexdigest()[:16]
        print(f'{n} sha256 {h}')


if __name__ == '__main__':
    main()
