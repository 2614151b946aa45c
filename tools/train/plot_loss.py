"""Loss curves of a training log: python3 plot_loss.py LOG PNG [--title T] [--mark STEP]

Logs of train.py (attempts 1-2) and of train_retrieval.py (attempt 3, which adds the supervised heads'
losses, drawn when present)."""
import argparse
import json
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def smooth(xs, k=15):
    out = []
    for i in range(len(xs)):
        w = xs[max(0, i - k + 1):i + 1]
        out.append(sum(w) / len(w))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('log')
    ap.add_argument('png')
    ap.add_argument('--title', default='tiny-retrieval training (tools/train/train.py, seed 1234; shipped: step 695)')
    ap.add_argument('--mark', type=int, default=695, help='a step to mark in red (the shipped one); 0: none')
    args = ap.parse_args()
    rows = [json.loads(l) for l in open(args.log)]
    steps = [r['step'] for r in rows]
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    a.plot(steps, smooth([r['lm_loss'] for r in rows]), label='language-model loss (filler, template)')
    a.plot(steps, smooth([r['answer_loss'] for r in rows]), label='answer loss (space + 7 digits)')
    for key, label in (('ret_loss', 'retrieval head: -log attention on the needle digit'),
                       ('copy_loss', 'retrieval head alone: digit cross-entropy')):
        if key in rows[0]:
            a.plot(steps, smooth([r[key] for r in rows]), label=label, lw=1)
    a.axhline(2.3026, color='grey', lw=0.8, ls=':', label='ln 10: guessing a digit')
    a.set_ylabel('cross-entropy (nats), 15-step mean')
    a.legend(fontsize=8)
    b.plot(steps, smooth([r['answer_acc'] for r in rows]), color='tab:green', label='answer tokens right (greedy)')
    if 'ret_hit' in rows[0]:
        b.plot(steps, smooth([r['ret_hit'] for r in rows]), color='tab:purple', lw=1,
               label='retrieval head looks at the right digit (argmax)')
    b.legend(fontsize=8)
    b.set_ylabel('fraction, 15-step mean')
    b.set_xlabel('step')
    b.set_ylim(0, 1.02)
    for ax in (a, b):
        prev = None
        for r in rows:
            if prev is not None and r['len'] != prev:
                ax.axvline(r['step'], color='k', lw=0.6, ls='--')
                if ax is a:
                    ax.text(r['step'], ax.get_ylim()[1] * 0.95, f" {r['len']} tok", fontsize=7, va='top')
            prev = r['len']
        ax.grid(alpha=0.3)
    for ax in (a, b):
        if args.mark:
            ax.axvline(args.mark, color='tab:red', lw=1.2)
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)


if __name__ == '__main__':
    main()
