"""Trains tiny-retrieval, attempt 3: needle rows in the RULER wording plus a supervised retrieval head.

Attempts 1 and 2 (train.py) never left the digit-guessing plateau: the circuit that finds the asked key
and copies the digits after it got too weak a signal from the answer tokens alone. Here one attention
head (query head 0 of the last layer) is also told where to look: when the model predicts the i-th digit
of an answer, that head's attention should sit on the i-th digit of the matching needle, so the loss
adds -log(attention weight on that position). Everything else is an ordinary causal-LM loss, and the
result is a plain llama model (the supervision only shapes what the weights learn).

Deterministic from --seed: every row is a function of (seed, step, row) (task.py), and with --threads 1
the arithmetic too. Resumes from WORK/ckpt.pt. Logs one JSON line a step to WORK/log.jsonl.

Usage: /usr/bin/python3 train_retrieval.py --work work3 --data work/data [--phases ...]
"""
import argparse
import json
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_io import Reader  # noqa: E402
from model import Config, Llama  # noqa: E402
from spm import Spm  # noqa: E402
from task import Task  # noqa: E402
from train import adamw, phase_at as phase_of, resume, save_checkpoint, skip_positions, wsd_lr  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

# (steps, sequence length, rows, kind): kind 'single' = one needle in filler (nothing to tell apart but
# the digit positions, so the retrieval head turns sharp and the copy it feeds can form), 'copy' = 2-4 needles with 0-30 filler words between them,
# 'dense' = filler at the phase's length with 1-5 needles, 'mix' = half
# single, half dense, 'plain' = the evaluation's mix (1-6 needles).
DEFAULT_PHASES = '200x320x16:single,300x320x16:copy,300x768x6:dense,150x1536x3:dense,80x2560x2:plain,30x4160x1:plain'
LR, WARMUP, MIN_LR = 2e-3, 40, 2e-4
DECAY = 0.2  # cosine decay over the last fraction of all steps (warmup-stable-decay)
POSE, POSE_SPAN = 0.5, 4160  # rows shorter than half the span get PoSE position jumps with this chance


def parse_phases(spec):
    out = []
    for part in spec.split(','):
        shape, kind = part.split(':')
        n, length, rows = map(int, shape.split('x'))
        if kind not in ('single', 'copy', 'dense', 'mix', 'plain'):
            raise SystemExit(f'unknown phase kind {kind}')
        out.append((n, length, rows, kind))
    return out


def lr_at(step, total):
    return wsd_lr(step, total, LR, WARMUP, DECAY, MIN_LR)


def copy_targets(ids, digits, for_id):
    """Where the supervised heads should look, as (query position, first key position, end key position):

    - retrieval (last layer): each answer digit is predicted at the position before it and should be
      read from the same digit of the needle, the first earlier run of the same 7 digits;
    - key register (second layer): from the needle's ' ' and digits, and from the positions predicting
      the answer, attend to the key's tokens (the tokens after the nearest earlier 'for'), so the
      retrieval head can match the asked key against each needle's key."""
    runs, i = [], 0
    while i < len(ids):
        if ids[i] in digits:
            j = i
            while j < len(ids) and ids[j] in digits:
                j += 1
            if j - i == 7:
                runs.append(i)
            i = j
        else:
            i += 1
    first, retrieve, register = {}, [], []

    def key_span(at):
        f = at
        while f >= 0 and ids[f] != for_id:
            f -= 1
        return f + 1

    for r in runs:
        key = tuple(ids[r:r + 7])
        if key in first:
            n = first[key]
            retrieve += [(r + d - 1, n + d, n + d + 1) for d in range(7)]
            # needle: for KEY ▁ is : ▁ d d d ..., so the key ends 4 tokens before the first digit
            ks = key_span(n)
            ke = n - 4
            qs = key_span(r)
            if ks <= 0 or qs <= 0 or ke <= ks:
                continue
            register += [(n + d - 1, ks, ke) for d in range(8)]
            register += [(r + d - 1, qs, qs + ke - ks) for d in range(7)]
        else:
            first[key] = r
    return retrieve, register


def span_loss(att, targets):
    """-log of the attention mass a head puts on [start, end) at each query, and how often its argmax
    falls inside; att (B, T, S), targets [(row, query, start, end)]."""
    if not targets:
        return torch.zeros(()), 0.0
    b, q, s, e = (torch.tensor(v) for v in zip(*targets))
    rows = att[b, q]
    k = torch.arange(rows.shape[-1])
    inside = (k[None] >= s[:, None]) & (k[None] < e[:, None])
    mass = (rows * inside).sum(-1)
    hit = inside.gather(1, rows.argmax(-1, keepdim=True)).float().mean().item()
    return -torch.log(mass + 1e-6).mean(), hit


def make_batch(task, step, length, rows, kind, digits, for_id):
    if kind == 'copy':
        seqs = [task.example_copy(step, r, length) for r in range(rows)]
    elif kind == 'single':
        seqs = [task.example(step, r, length, needles=1) for r in range(rows)]
    elif kind == 'mix':
        seqs = [task.example(step, r, length, dense=True, needles=1 if r % 2 == 0 else None) for r in range(rows)]
    else:
        seqs = [task.example(step, r, length, kind == 'dense') for r in range(rows)]
    T = max(len(ids) for ids, _ in seqs)
    x = torch.zeros(rows, T, dtype=torch.long)
    answer = torch.zeros(rows, T, dtype=torch.bool)
    real = torch.zeros(rows, T, dtype=torch.bool)
    pos = torch.arange(T).repeat(rows, 1)
    retrieve, register = [], []
    for r, (ids, wt) in enumerate(seqs):
        x[r, :len(ids)] = torch.tensor(ids)
        real[r, :len(ids)] = True
        answer[r, :len(ids)] = torch.tensor([w > 1 for w in wt])
        ret, reg = copy_targets(ids, digits, for_id)
        retrieve += [(r,) + t for t in ret if t[0] < T - 1]
        register += [(r,) + t for t in reg if t[0] < T - 1]
        rng = random.Random(f'pose/{task.seed}/{step}/{r}')
        if length < POSE_SPAN // 2 and rng.random() < POSE:
            pos[r] = torch.tensor(skip_positions(rng, T, POSE_SPAN - 64))
    return x, real, answer, pos, retrieve, register


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', default='work3')
    ap.add_argument('--data', default='work/data', help='corpus folder made by make_data.py')
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--phases', default=DEFAULT_PHASES, help='STEPSxLENGTHxROWS:KIND,...')
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--lm-weight', type=float, default=0.3, help='loss weight of non-answer tokens (answers weigh 1)')
    ap.add_argument('--att-weight', type=float, default=1.0, help='weight of the retrieval-head supervision')
    ap.add_argument('--embed-std', type=float, default=1.0, help='initial token embedding scale')
    ap.add_argument('--retrieval-layer', type=int, default=2, help='layer of the supervised retrieval head')
    ap.add_argument('--ckpt-minutes', type=float, default=3)
    ap.add_argument('--max-steps', type=int, default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    phases = parse_phases(a.phases)
    total = sum(p[0] for p in phases)
    r = Reader(os.path.join(ROOT, 'models/stories260K.gguf'))
    tok = Spm.from_gguf_meta(r.meta)
    digits = {tok.tokens.index(str(d)) for d in range(10)}
    task = Task(tok, a.data, a.seed)
    cfg = Config(vocab=len(tok.tokens), dim=256, layers=a.layers, heads=4, kv_heads=2, head_dim=64, ffn=512, ctx=4096,
                 embed_std=a.embed_std)
    torch.manual_seed(a.seed)
    model = Llama(cfg)
    # the supervised heads: query head 0 of the first, the second and the retrieval layer
    prev_head, register_head, retrieval_head = model.blocks[0], model.blocks[1], model.blocks[a.retrieval_layer]
    heads = (prev_head, register_head, retrieval_head)
    for_id = tok.tokens.index('▁for')
    opt = adamw(model, LR)
    os.makedirs(a.work, exist_ok=True)
    ck = os.path.join(a.work, 'ckpt.pt')
    logf = os.path.join(a.work, 'log.jsonl')
    step = resume(ck, logf, model, opt)
    print(f'params {sum(p.numel() for p in model.parameters()):,}, steps {total}, phases {phases}', flush=True)

    def save():
        save_checkpoint(ck, {'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'config': cfg.to_dict(),
                             'seed': a.seed, 'phases': a.phases})

    log = open(logf, 'a')
    last_ck = time.time()
    while step < total and (a.max_steps is None or step < a.max_steps):
        t0 = time.time()
        ph, length, rows, kind = phase_of(step, phases)
        x, real, answer, pos, retrieve, register = make_batch(task, step, length, rows, kind, digits, for_id)
        lr = lr_at(step, total)
        for g in opt.param_groups:
            g['lr'] = lr
        for blk in heads:
            blk.keep_attention = 0
        logits = model(x[:, :-1], positions=pos[:, :-1])
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction='none')
        ans = answer[:, 1:].reshape(-1)
        lm = real[:, 1:].reshape(-1) & ~ans
        wt = ans.float() + lm.float() * a.lm_weight
        loss = (nll * wt).sum() / wt.sum()
        # previous-token head: every position t > 0 looks at t - 1
        prev = torch.diagonal(prev_head.attention, offset=-1, dim1=1, dim2=2)
        prev_mask = real[:, 1:-1] & real[:, :-2]
        prev_loss = -(torch.log(prev + 1e-6) * prev_mask).sum() / prev_mask.sum()
        reg_loss, reg_hit = span_loss(register_head.attention, register)
        ret_loss, ret_hit = span_loss(retrieval_head.attention, retrieve)
        # the retrieval head alone, read through the output layer, should name the digit it copies
        copy_loss = torch.zeros(())
        if retrieve:
            b, q = (torch.tensor(v) for v in list(zip(*retrieve))[:2])
            alone = model.output(model.norm(retrieval_head.head_output[b, q]))
            copy_loss = F.cross_entropy(alone, x[b, q + 1])
        loss = loss + a.att_weight * (prev_loss + reg_loss + ret_loss + copy_loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            pred = logits.reshape(-1, logits.shape[-1]).argmax(-1) == x[:, 1:].reshape(-1)
        for blk in heads:
            blk.keep_attention, blk.attention, blk.head_output = None, None, None
        step += 1
        rec = {'step': step, 'phase': ph, 'len': length, 'rows': rows, 'kind': kind, 'loss': round(loss.item(), 4),
               'lm_loss': round(nll[lm].mean().item(), 4), 'answer_loss': round(nll[ans].mean().item(), 4),
               'answer_acc': round(pred[ans].float().mean().item(), 4), 'prev_loss': round(prev_loss.item(), 4),
               'reg_loss': round(reg_loss.item(), 4), 'reg_hit': round(reg_hit, 4),
               'ret_loss': round(ret_loss.item(), 4), 'copy_loss': round(copy_loss.item(), 4), 'ret_hit': round(ret_hit, 4), 'lr': lr, 'tokens': int(real.sum()), 'sec': round(time.time() - t0, 3),
               'time': round(time.time(), 1)}
        log.write(json.dumps(rec) + '\n')
        log.flush()
        if step % 10 == 0:
            print(rec, flush=True)
        nxt = phase_of(step, phases)
        if nxt is None or nxt[0] != ph or time.time() - last_ck > a.ckpt_minutes * 60:
            save()
            last_ck = time.time()
    save()
    print('done', step, flush=True)


if __name__ == '__main__':
    main()
