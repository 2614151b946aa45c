"""Training sequences in the RULER niah_single wording that `think4j eval niah --format ruler` asks.

Every sequence is built from (seed, step, row) alone, so training resumes to the same data.
"""
import os
import random

PREAMBLE = ('Some special magic numbers are hidden within the following text. Make sure to memorize it. '
            'I will quiz you about the numbers afterwards.')
NEEDLE = 'One of the special magic numbers for {key} is: {number}.'
QUESTION = ('What is the special magic number for {key} mentioned in the provided text? '
            'The special magic number for {key} mentioned in the provided text is')


def train_number(rng):
    """7-digit numbers whose digit sum is not 3 mod 10: the evaluation draws only numbers whose digit
    sum is 3 mod 10, so no evaluation number can ever occur in training."""
    while True:
        n = rng.randrange(1_000_000, 10_000_000)
        if sum(map(int, str(n))) % 10 != 3:
            return str(n)


def sentence_ends(text):
    ends = [0]
    for i, c in enumerate(text):
        if c in '.!?\n' and (i + 1 >= len(text) or text[i + 1].isspace()):
            ends.append(i + 1)
    return ends


def insert_at(text, needle, at):
    before, after = text[:at], text[at:].lstrip()
    return (before + ' ' if before else '') + needle + (' ' + after if after else '')


class Task:
    def __init__(self, tok, data_dir, seed):
        self.tok, self.seed = tok, seed
        self.docs = open(os.path.join(data_dir, 'docs.txt')).read().split('\n\n')
        stories = []
        for name in sorted(os.listdir(data_dir)):
            if name.startswith('stories'):
                stories += [s for s in open(os.path.join(data_dir, name)).read().split('\n\n') if s.strip()]
        self.stories = stories
        self.words = [w.strip() for w in open(os.path.join(data_dir, 'words.txt')) if w.strip()]

    def key(self, rng):
        r = rng.random()
        if r < 0.7:
            return rng.choice(self.words)
        if r < 0.85:
            return rng.choice(self.words) + '-' + rng.choice(self.words)
        return rng.choice(self.words).capitalize()

    def filler(self, rng, chars):
        src = self.stories if rng.random() < 0.45 else self.docs
        sep = '\n\n' if rng.random() < 0.7 else '\n'
        i = rng.randrange(len(src))
        parts, n = [], 0
        while n < chars:
            parts.append(src[i % len(src)].strip())
            n += len(parts[-1]) + len(sep)
            i += 1
        return sep.join(parts)

    def example(self, step, row, length, dense=False, needles=None):
        """(ids, weights): one sequence of at most `length` tokens; weights mark the answer digits.
        dense: more needles, and two or three of them asked; needles: exactly that many."""
        rng = random.Random(f'{self.seed}/{step}/{row}')
        n_needles = rng.choice([1, 2, 3, 4, 5] if dense else [1, 1, 1, 2, 3, 4, 6])
        if needles is not None:
            n_needles = needles
        keys = []
        while len(keys) < n_needles:
            k = self.key(rng)
            if k not in keys:
                keys.append(k)
        numbers = [train_number(rng) for _ in keys]
        asked = rng.sample(range(n_needles), min(n_needles, rng.choice([1, 2, 3, 4] if dense else [1, 2, 3])))
        tail = ''.join('\n' + QUESTION.format(key=keys[j]) + ' ' + numbers[j] + '.' for j in asked)
        overhead = len(self.tok.encode(PREAMBLE + '\n' + tail)) + sum(
            len(self.tok.encode(NEEDLE.format(key=k, number=v))) for k, v in zip(keys, numbers)) + 4
        budget = max(8, length - overhead - rng.randrange(0, max(1, length // 16)))
        text = self.filler(rng, int(budget * 3.2))
        ids = self.tok.encode(text, bos=False)[:budget]
        text = self.tok.decode(ids)
        ends = sentence_ends(text)
        # needles go at sentence ends, deepest first so earlier offsets stay valid; depths 0 and 100 are
        # drawn often because the evaluation grid always has them
        spots = []
        for _ in keys:
            r = rng.random()
            spots.append(0 if r < 0.1 else len(text) if r < 0.2 else rng.choice(ends))
        order = sorted(range(n_needles), key=lambda j: -spots[j])
        for j in order:
            at = spots[j]
            if at >= len(text):
                text = text.rstrip() + ' ' + NEEDLE.format(key=keys[j], number=numbers[j])
            else:
                text = insert_at(text, NEEDLE.format(key=keys[j], number=numbers[j]), at)
        ids = self.tok.encode(PREAMBLE + '\n' + text)
        weights = [1.0] * len(ids)
        for j in asked:
            q = self.tok.encode('\n' + QUESTION.format(key=keys[j]), bos=False)
            a = self.tok.encode('\n' + QUESTION.format(key=keys[j]) + ' ' + numbers[j] + '.', bos=False)
            # the question's own tokens are the same with and without the answer after it
            ans = a[len(q):]
            ids += a
            weights += [1.0] * len(q) + [ANSWER_WEIGHT] * (len(ans) - 1) + [1.0]
        return ids[:length], weights[:length]


ANSWER_WEIGHT = 4.0


def example_copy(self, step, row, length):
    """(ids, weights) for the copy warm-up (recipe `copy`): 2-4 needles with only 0-30 filler words
    between them and two or three of them asked, so a short sequence carries many answer digits and the
    gradient toward an induction (find the key, copy what followed) circuit is not diluted by filler."""
    rng = random.Random(f'copy/{self.seed}/{step}/{row}')
    n_needles = rng.choice([2, 3, 4])
    keys = []
    while len(keys) < n_needles:
        k = self.key(rng)
        if k not in keys:
            keys.append(k)
    numbers = [train_number(rng) for _ in keys]
    asked = rng.sample(range(n_needles), min(n_needles, rng.choice([2, 3])))
    words = self.filler(rng, 1500).split()
    chunks = [rng.randrange(0, 31) for _ in range(n_needles + 1)]
    while True:
        parts, w = [], 0
        for j in range(n_needles + 1):
            if chunks[j]:
                parts.append(' '.join(words[w:w + chunks[j]]))
                w += chunks[j]
            if j < n_needles:
                parts.append(NEEDLE.format(key=keys[j], number=numbers[j]))
        ids = self.tok.encode(PREAMBLE + '\n' + ' '.join(parts))
        weights = [1.0] * len(ids)
        for j in asked:
            q = self.tok.encode('\n' + QUESTION.format(key=keys[j]), bos=False)
            a = self.tok.encode('\n' + QUESTION.format(key=keys[j]) + ' ' + numbers[j] + '.', bos=False)
            ans = a[len(q):]
            ids = ids + a
            weights = weights + [1.0] * len(q) + [ANSWER_WEIGHT] * (len(ans) - 1) + [1.0]
        if len(ids) <= length or (len(asked) == 1 and not any(chunks)):
            return ids[:length], weights[:length]
        if any(chunks):
            chunks = [c // 2 for c in chunks]
        else:
            # too long even without filler: ask one question fewer rather than cut an answer off
            asked = asked[:-1]
            chunks = [rng.randrange(0, 31) for _ in range(n_needles + 1)]


Task.example_copy = example_copy


def example_recall(self, step, row, length):
    """(ids, weights) of a synthetic associative-recall row for the copy warm-up: `key: number.` pairs,
    then the same keys again in another order, each followed by its number (the answer). Every second
    half token is a copy target, so the induction circuit the needle task needs gets a strong, dense
    gradient; the needle rows of the same batches then only have to route the question's key to it."""
    rng = random.Random(f'recall/{self.seed}/{step}/{row}')
    keys, numbers, ids = [], [], self.tok.encode('', bos=True)
    sep = rng.choice([': ', ' is: ', ' = '])
    while True:
        k = self.key(rng)
        if k in keys:
            continue
        n = train_number(rng)
        pair = self.tok.encode(' ' + k + sep + n + '.', bos=False)
        # the pairs and their repeats must both fit
        if 2 * (len(ids) + len(pair)) + 2 > length:
            break
        keys.append(k)
        numbers.append(n)
        ids += pair
    weights = [1.0] * len(ids)
    ids += self.tok.encode('\n', bos=False)
    weights += [1.0] * (len(ids) - len(weights))
    for j in rng.sample(range(len(keys)), len(keys)):
        q = self.tok.encode(' ' + keys[j] + sep.rstrip(), bos=False)
        a = self.tok.encode(' ' + keys[j] + sep + numbers[j] + '.', bos=False)
        ids += a
        weights += [1.0] * len(q) + [ANSWER_WEIGHT] * (len(a) - len(q) - 1) + [1.0]
    return ids[:length], weights[:length]


Task.example_recall = example_recall
