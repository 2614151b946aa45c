"""Trains tiny-retrieval. Deterministic from --seed; resumes from the newest checkpoint in --work.

Usage: python3 train.py --work work [--seed 1234] [--threads 2]
Writes work/ckpt.pt (every --ckpt-minutes and at each phase end) and work/log.jsonl (one line a step).
"""
import argparse
import json
import math
import random
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_io import Reader  # noqa: E402
from model import Config, Llama  # noqa: E402
from spm import Spm  # noqa: E402
from task import Task  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

# Rows of the short phases get, with probability POSE, positions with random skips up to POSE_SPAN
# (PoSE, Zhu et al. 2023): the needle-to-question distances of a 4K prompt at the cost of a short one.
POSE, POSE_SPAN = 0.5, 4160
LR, WARMUP, MIN_LR = 2e-3, 100, 2e-4
# Phases: (steps, sequence length, rows per step, dense in needles and questions).
# Stage 1 was planned as STAGE1_PHASES (its cosine learning rate spans all of them) but stops at
# STAGE1_STEPS: at 250 steps it still guessed the digits (answer loss at ln 10), so its long phases
# would have been spent on a model that cannot copy yet. Stage 2 continues from there with small
# batches dense in questions (more updates per CPU second), then long sequences for 4K prompts.
STAGE1_PHASES = [(250, 256, 12, False), (100, 768, 4, False), (25, 2048, 2, False), (15, 4160, 1, False)]
STAGE1_STEPS = 250
STAGE2_PHASES = [(400, 512, 4, True), (40, 1024, 2, False), (20, 4160, 1, False)]
STAGE2_LR, STAGE2_WARMUP, STAGE2_MIN_LR = 1.5e-3, 20, 1e-4
# Weight of the answer tokens in the loss, from a step on: stage 1 sat on the ln(10) plateau with
# weight 4 through step 218, so from there the answers weigh 16
ANSWER_WEIGHTS = [(0, 4.0), (218, 16.0)]
# Stage 2 stopped at STAGE2_STEPS (the 4,160-token steps took 100 s each under load) with the answers
# still guessed; stage 3 goes back to the dense phase at a held learning rate for as long as time allows
# (--max-steps), the only lever left: more updates.
STAGE2_STEPS = 695
STAGE3_PHASES = [(1200, 512, 4, True), (30, 1024, 2, False)]
STAGE3_LR, STAGE3_WARMUP = 1.5e-3, 10
TOTAL = STAGE2_STEPS + sum(p[0] for p in STAGE3_PHASES)

# Recipe `copy` (attempt 2, issue 16): the schedule above never left the digit-guessing plateau, so
# this one starts from scratch on short sequences that are nearly all needles and questions
# (Task.example_copy), with batches of many rows, filler tokens weighing COPY_LM_WEIGHT and answer
# digits 1, until the copy circuit forms; then the usual dense sequences at growing lengths with PoSE
# jumps. Phases: (steps, length, rows, kind); kind 'copy' or 'dense'. Set by --copy-steps etc.
COPY_LR, COPY_WARMUP, COPY_MIN_LR, COPY_LM_WEIGHT = 2e-3, 30, 2e-4, 0.1
COPY_DECAY = 0.15  # last fraction of the steps: cosine decay to COPY_MIN_LR


def copy_phases(a):
    if a.phases:
        # STEPSxLENGTHxROWS:KIND,... e.g. 140x512x12:recall,350x192x16:recallonly
        out = []
        for part in a.phases.split(','):
            shape, kind = part.split(':')
            n, length, rows = map(int, shape.split('x'))
            out.append((n, length, rows, kind))
        return out
    return [(a.copy_steps, 512, a.copy_rows, a.copy_kind), (a.mid_steps, 1024, 6, 'dense'),
            (a.long_steps, 2048, 3, 'dense')]


def wsd_lr(step, total, peak, warmup, decay, floor):
    """Warm-up, stable, decay: linear warm-up to peak, held, cosine to floor over the last `decay` fraction."""
    if step < warmup:
        return peak * (step + 1) / warmup
    start = int(total * (1 - decay))
    if step < start:
        return peak
    p = (step - start) / max(1, total - start)
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * p))


def copy_lr_at(step, total):
    return wsd_lr(step, total, COPY_LR, COPY_WARMUP, COPY_DECAY, COPY_MIN_LR)


def phase_at(step, phases, first_index=0):
    """(index, length, rows, kind) of the phase a step falls in, phases being (steps, length, rows, kind); None past the end."""
    s = 0
    for i, (n, length, rows, kind) in enumerate(phases):
        if step < s + n:
            return first_index + i, length, rows, kind
        s += n
    return None


def copy_phase_of(step, phases):
    return phase_at(step, phases, 30)


def lr_at(step):
    if step < STAGE1_STEPS:
        total = sum(p[0] for p in STAGE1_PHASES)
        if step < WARMUP:
            return LR * (step + 1) / WARMUP
        p = (step - WARMUP) / max(1, total - WARMUP)
        return MIN_LR + 0.5 * (LR - MIN_LR) * (1 + math.cos(math.pi * p))
    if step >= STAGE2_STEPS:
        s = step - STAGE2_STEPS
        hold = STAGE3_PHASES[0][0]
        if s < STAGE3_WARMUP:
            return STAGE3_LR * (s + 1) / STAGE3_WARMUP
        if s < hold:
            return STAGE3_LR
        p = (s - hold) / max(1, sum(q[0] for q in STAGE3_PHASES[1:]))
        return STAGE2_MIN_LR + 0.5 * (STAGE3_LR - STAGE2_MIN_LR) * (1 + math.cos(math.pi * p))
    # stage 2: warm up, hold, then a cosine decay over the phases after the first (warmup-stable-decay),
    # so the length of the first phase can be chosen while it runs without changing any step before
    s = step - STAGE1_STEPS
    hold = STAGE2_PHASES[0][0]
    if s < STAGE2_WARMUP:
        return STAGE2_LR * (s + 1) / STAGE2_WARMUP
    if s < hold:
        return STAGE2_LR
    n = sum(p[0] for p in STAGE2_PHASES[1:])
    p = (s - hold) / max(1, n)
    return STAGE2_MIN_LR + 0.5 * (STAGE2_LR - STAGE2_MIN_LR) * (1 + math.cos(math.pi * p))


def phase_of(step):
    """(phase index, length, rows, dense) of a step, or None past the end; stage 2 phases count from 10."""
    if step < STAGE1_STEPS:
        s = 0
        for i, (n, length, rows, dense) in enumerate(STAGE1_PHASES):
            if step < s + n:
                return i, length, rows, dense
            s += n
    if step < STAGE2_STEPS:
        s = STAGE1_STEPS
        for i, (n, length, rows, dense) in enumerate(STAGE2_PHASES):
            if step < s + n:
                return 10 + i, length, rows, dense
            s += n
    s = STAGE2_STEPS
    for i, (n, length, rows, dense) in enumerate(STAGE3_PHASES):
        if step < s + n:
            return 20 + i, length, rows, dense
        s += n
    return None


def skip_positions(rng, n, span):
    """0..n-1 with two or three random jumps, the last position below span."""
    cuts = sorted(rng.sample(range(1, n), rng.choice([2, 3])))
    room = span - n
    skips = sorted(rng.randrange(0, room + 1) for _ in cuts)
    pos, shift, c = [], 0, 0
    for i in range(n):
        while c < len(cuts) and i == cuts[c]:
            shift = skips[c]
            c += 1
        pos.append(i + shift)
    return pos


def answer_weight(step):
    return [w for s, w in ANSWER_WEIGHTS if step >= s][-1]


def batch(task, step, length, rows, dense, lm_weight=1.0):
    """dense: True/False for the first recipe, or 'copy'/'dense' for recipe `copy`."""
    if dense == 'copy':
        seqs = [task.example_copy(step, r, length) for r in range(rows)]
    elif dense == 'recallonly':
        seqs = [task.example_recall(step, r, length) for r in range(rows)]
    elif dense == 'recall':
        # half synthetic recall rows, half needle rows (Task.example_recall, Task.example_copy)
        seqs = [task.example_recall(step, r, length) if r % 2 == 0 else task.example_copy(step, r, length)
                for r in range(rows)]
    else:
        seqs = [task.example(step, r, length, dense == 'dense' or dense is True) for r in range(rows)]
    T = max(len(ids) for ids, _ in seqs)
    x = torch.zeros(rows, T, dtype=torch.long)
    w = torch.zeros(rows, T)
    p = torch.arange(T).repeat(rows, 1)
    for r in range(rows):
        rng = random.Random(f'pose/{task.seed}/{step}/{r}')
        if length < POSE_SPAN // 2 and rng.random() < POSE:
            p[r] = torch.tensor(skip_positions(rng, T, POSE_SPAN - 64))
    for r, (ids, wt) in enumerate(seqs):
        x[r, :len(ids)] = torch.tensor(ids)
        # weight j belongs to token j; the loss at position j-1 predicts it, and padding weighs 0
        w[r, :len(ids)] = torch.tensor(wt)
    if lm_weight != 1.0:
        w = torch.where(w > 1, torch.ones_like(w), w * lm_weight)
    else:
        w = torch.where(w > 1, torch.full_like(w, answer_weight(step)), w)
    return x, w, p


def adamw(model, lr):
    """AdamW (0.9, 0.98) with weight decay 0.05 on matrices only (not on norms)."""
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{'params': decay, 'weight_decay': 0.05}, {'params': other, 'weight_decay': 0.0}],
                             lr=lr, betas=(0.9, 0.98))


def resume(ck, logf, model, opt):
    """The step to continue from: 0, or the checkpoint's (model and optimizer restored, and the log cut back to
    it, since the steps logged after that checkpoint are about to run again)."""
    if not os.path.exists(ck):
        return 0
    s = torch.load(ck)
    model.load_state_dict(s['model'])
    opt.load_state_dict(s['opt'])
    step = s['step']
    print(f'resumed at step {step}', flush=True)
    if os.path.exists(logf):
        keep = [line for line in open(logf) if json.loads(line)['step'] <= step]
        open(logf, 'w').writelines(keep)
    return step


def save_checkpoint(ck, state):
    """Writes through a temporary file, so a kill mid-write leaves the previous checkpoint intact."""
    torch.save(state, ck + '.tmp')
    os.replace(ck + '.tmp', ck)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', default='work')
    ap.add_argument('--data', default=None, help='corpus folder (default WORK/data)')
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ckpt-minutes', type=float, default=4)
    ap.add_argument('--max-steps', type=int, default=None, help='stop early (timing runs)')
    ap.add_argument('--recipe', choices=['v1', 'copy'], default='v1',
                    help='v1: the first schedule (STAGE*_PHASES); copy: copy warm-up then dense (attempt 2)')
    ap.add_argument('--copy-steps', type=int, default=400)
    ap.add_argument('--copy-rows', type=int, default=16)
    ap.add_argument('--copy-kind', choices=['copy', 'recall'], default='recall',
                    help='copy warm-up rows: needle rows only, or half synthetic recall rows')
    ap.add_argument('--mid-steps', type=int, default=200)
    ap.add_argument('--long-steps', type=int, default=100)
    ap.add_argument('--phases', default=None,
                    help='recipe copy: explicit phases STEPSxLENGTHxROWS:KIND,... (KIND copy, recall, recallonly, '
                         'dense), replacing --copy-steps etc.')
    ap.add_argument('--layers', type=int, default=3)
    a = ap.parse_args()
    global phase_of, lr_at
    lm_weight = 1.0
    if a.recipe == 'copy':
        phases = copy_phases(a)
        total_copy = sum(p[0] for p in phases)
        phase_of = lambda step: copy_phase_of(step, phases)  # noqa: E731
        lr_at = lambda step: copy_lr_at(step, total_copy)  # noqa: E731
        lm_weight = COPY_LM_WEIGHT
    torch.set_num_threads(a.threads)
    r = Reader(os.path.join(ROOT, 'models/stories260K.gguf'))
    tok = Spm.from_gguf_meta(r.meta)
    task = Task(tok, a.data or os.path.join(a.work, 'data'), a.seed)
    cfg = Config(vocab=len(tok.tokens), dim=256, layers=a.layers, heads=4, kv_heads=2, head_dim=64, ffn=512, ctx=4096)
    torch.manual_seed(a.seed)
    model = Llama(cfg)
    opt = adamw(model, LR)
    total = TOTAL if a.recipe == 'v1' else total_copy
    ck = os.path.join(a.work, 'ckpt.pt')
    step = resume(ck, os.path.join(a.work, 'log.jsonl'), model, opt)
    print(f'params {sum(p.numel() for p in model.parameters()):,}, steps {total}', flush=True)

    def save():
        save_checkpoint(ck, {'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'config': cfg.to_dict(),
                             'seed': a.seed})

    log = open(os.path.join(a.work, 'log.jsonl'), 'a')
    last_ck = time.time()
    while step < total and (a.max_steps is None or step < a.max_steps):
        t0 = time.time()
        ph, length, rows, dense = phase_of(step)
        x, w, pos = batch(task, step, length, rows, dense, lm_weight)
        for g in opt.param_groups:
            g['lr'] = lr_at(step)
        logits = model(x[:, :-1], positions=pos[:, :-1])
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction='none')
        wt = w[:, 1:].reshape(-1)
        loss = (nll * wt).sum() / wt.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            ans = wt > 1 if lm_weight == 1.0 else wt == 1
            lm = (wt == 1) if lm_weight == 1.0 else (wt > 0) & (wt < 1)
            correct = (logits.reshape(-1, logits.shape[-1]).argmax(-1) == x[:, 1:].reshape(-1))[ans]
        step += 1
        rec = {'step': step, 'phase': ph, 'len': length, 'rows': rows, 'loss': round(loss.item(), 4),
               'lm_loss': round(nll[lm].mean().item(), 4), 'answer_loss': round(nll[ans].mean().item(), 4),
               'answer_acc': round(correct.float().mean().item(), 4), 'lr': lr_at(step - 1),
               'tokens': int((wt > 0).sum()), 'sec': round(time.time() - t0, 3), 'time': round(time.time(), 1)}
        log.write(json.dumps(rec) + '\n')
        log.flush()
        if step % 10 == 0:
            print(rec, flush=True)
        end_of_phase = phase_of(step) is None or phase_of(step)[0] != ph
        if end_of_phase or time.time() - last_ck > a.ckpt_minutes * 60:
            save()
            last_ck = time.time()
    save()
    print('done', step, flush=True)


if __name__ == '__main__':
    main()
