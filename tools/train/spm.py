"""llama.cpp's SentencePiece ("llama") tokenizer algorithm, so training ids match think4j and llama.cpp exactly."""
import heapq

SPACE = '\u2581'


class Spm:
    def __init__(self, tokens, scores, token_types, bos=1, eos=2, add_space_prefix=True):
        self.tokens, self.scores, self.types = tokens, scores, token_types
        self.bos, self.eos, self.add_space_prefix = bos, eos, add_space_prefix
        self.index = {}
        for i, t in enumerate(tokens):
            self.index.setdefault(t, i)
        self.byte = {}
        for i, t in enumerate(tokens):
            if token_types[i] == 6:
                self.byte[int(t[3:5], 16)] = i

    @classmethod
    def from_gguf_meta(cls, meta):
        return cls(meta['tokenizer.ggml.tokens'], meta['tokenizer.ggml.scores'], meta['tokenizer.ggml.token_type'],
                   meta.get('tokenizer.ggml.bos_token_id', 1), meta.get('tokenizer.ggml.eos_token_id', 2),
                   meta.get('tokenizer.ggml.add_space_prefix', True))

    def encode(self, text, bos=True):
        out = [self.bos] if bos else []
        if not text:
            return out
        if self.add_space_prefix:
            text = ' ' + text
        text = text.replace(' ', SPACE)
        sym = list(text)  # one symbol per code point, merged in place
        n = len(sym)
        prev = list(range(-1, n - 1))
        nxt = list(range(1, n + 1))
        nxt[-1] = -1
        heap = []
        rev = {}

        def bigram(l, r):
            if l < 0 or r < 0:
                return
            s = sym[l] + sym[r]
            tid = self.index.get(s)
            if tid is None:
                return
            # highest score first, then leftmost, as llama.cpp's comparator
            heapq.heappush(heap, (-self.scores[tid], l, len(s), r))
            rev[s] = (l, r)

        for i in range(1, n):
            bigram(i - 1, i)
        while heap:
            _, l, size, r = heapq.heappop(heap)
            if not sym[l] or not sym[r] or len(sym[l]) + len(sym[r]) != size:
                continue
            sym[l] += sym[r]
            sym[r] = ''
            nxt[l] = nxt[r]
            if nxt[r] >= 0:
                prev[nxt[r]] = l
            bigram(prev[l], l)
            bigram(l, nxt[l])

        # rev keys texts to the symbol pair of their latest merge; the original symbols are gone, so
        # resegmenting falls back to the vocabulary by splitting recursively on known pieces
        def reseg(s):
            tid = self.index.get(s)
            if tid is not None:
                out.append(tid)
                return
            for b in s.encode('utf-8'):
                out.append(self.byte[b])

        i = 0
        while i != -1:
            reseg(sym[i])
            i = nxt[i]
        return out

    def piece(self, tid):
        t = self.tokens[tid]
        if self.types[tid] == 6:
            return bytes([int(t[3:5], 16)])
        if self.types[tid] in (2, 3):
            return b''
        return t.replace(SPACE, ' ').encode('utf-8')

    def decode(self, ids):
        b = b''.join(self.piece(i) for i in ids)
        s = b.decode('utf-8', errors='replace')
        return s[1:] if self.add_space_prefix and s.startswith(' ') else s
