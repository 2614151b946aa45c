"""Loss curves of a training log: python3 plot_loss.py work/log.jsonl ../../docs/img/tiny-retrieval-loss.png"""
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
    rows = [json.loads(l) for l in open(sys.argv[1])]
    steps = [r['step'] for r in rows]
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    a.plot(steps, smooth([r['lm_loss'] for r in rows]), label='language-model loss (filler, template)')
    a.plot(steps, smooth([r['answer_loss'] for r in rows]), label='answer loss (space + 7 digits)')
    a.axhline(2.3026, color='grey', lw=0.8, ls=':', label='ln 10: guessing a digit')
    a.set_ylabel('cross-entropy (nats), 15-step mean')
    a.legend(fontsize=8)
    b.plot(steps, smooth([r['answer_acc'] for r in rows]), color='tab:green')
    b.set_ylabel('answer tokens right (greedy)')
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
        ax.axvline(695, color='tab:red', lw=1.2)
    fig.suptitle('tiny-retrieval training (tools/train/train.py, seed 1234; shipped: step 695)')
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == '__main__':
    main()
