package dev.think4j.tokenizer;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte-level BPE (GGUF {@code gpt2} vocabularies: GPT-2, Llama 3, Qwen, SmolLM, DeepSeek): text is
 * pre-tokenized, each piece's UTF-8 bytes are mapped to printable characters, and adjacent symbols
 * are merged in the order of {@code tokenizer.ggml.merges}.
 */
final class BpeTokenizer extends AbstractTokenizer {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        // Printable bytes stand for themselves; the others map to code points from 256 up.
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** Pieces up to this many chars are cached; longer ones are rare and would only crowd the cache. */
    private static final int CACHED_PIECE_CHARS = 48;

    private final MergeTable merges;
    private final int[] byteIds = new int[256];
    private final PreTokenizer pre;
    private final Map<String, int[]> cache = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, int[]> eldest) {
            return size() > 50_000;
        }
    };

    BpeTokenizer(GgufFile gguf) {
        super(new Vocabulary(gguf, false));
        merges = new MergeTable(gguf.getStringArray("tokenizer.ggml.merges"), vocab);
        for (int b = 0; b < 256; b++) {
            byteIds[b] = vocab.id(String.valueOf(BYTE_TO_CHAR[b]));
        }
        pre = PreTokenizer.forName(gguf.getString("tokenizer.ggml.pre", "default"));
    }

    @Override
    protected void encodeFragment(String text, boolean first, List<Integer> out) {
        for (String piece : pre.split(text)) {
            int[] ids = null;
            boolean cacheable = piece.length() <= CACHED_PIECE_CHARS;
            if (cacheable) {
                synchronized (cache) {
                    ids = cache.get(piece);
                }
            }
            if (ids == null) {
                ids = encodePiece(piece);
                if (cacheable) {
                    synchronized (cache) {
                        cache.put(piece, ids);
                    }
                }
            }
            for (int id : ids) {
                out.add(id);
            }
        }
    }

    /**
     * Merges one pre-token's byte symbols, always the adjacent pair of lowest merge rank first (the
     * leftmost among equals). A heap of (rank, left position) with lazy invalidation keeps this
     * O(n log n), so a long piece (a run of CJK or emoji with no spaces) is not quadratic.
     */
    int[] encodePiece(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        int n = bytes.length;
        if (pre.ignoresMerges()) {
            StringBuilder mapped = new StringBuilder(n);
            for (byte b : bytes) {
                mapped.append(BYTE_TO_CHAR[b & 0xff]);
            }
            int id = vocab.id(mapped.toString());
            if (id >= 0) {
                return new int[] {id};
            }
        }
        int[] sym = new int[n];
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            sym[i] = byteIds[bytes[i] & 0xff];
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        LongHeap heap = new LongHeap(2 * n + 4);
        for (int i = 0; i + 1 < n; i++) {
            push(heap, sym, i, i + 1);
        }
        while (!heap.isEmpty()) {
            long top = heap.poll();
            int rank = (int) (top >>> 32);
            int left = (int) top;
            int right = next[left];
            // stale: this position was merged into its left neighbour or now pairs differently
            if (sym[left] < 0 || right < 0 || merges.rank(sym[left], sym[right]) != rank) {
                continue;
            }
            sym[left] = merges.result(rank);
            sym[right] = -1;
            next[left] = next[right];
            if (next[left] >= 0) {
                prev[next[left]] = left;
                push(heap, sym, left, next[left]);
            }
            if (prev[left] >= 0) {
                push(heap, sym, prev[left], left);
            }
        }
        int[] ids = new int[n];
        int count = 0;
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            // a byte with no token of its own has nothing to fall back to in a byte-level vocabulary
            if (sym[i] >= 0) {
                ids[count++] = sym[i];
            }
        }
        return java.util.Arrays.copyOf(ids, count);
    }

    private void push(LongHeap heap, int[] sym, int left, int right) {
        int rank = merges.rank(sym[left], sym[right]);
        if (rank >= 0) {
            heap.add(((long) rank << 32) | left);
        }
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= vocab.tokens.length || vocab.types[id] == Vocabulary.CONTROL) {
            return new byte[0];
        }
        String t = vocab.tokens[id];
        if (vocab.types[id] == Vocabulary.USER_DEFINED) {
            return t.getBytes(StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            } else {
                out.write(b);
            }
        }
        return out.toByteArray();
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(tokenBytes(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Merge ranks keyed by the pair of token ids, in an open-addressing table (no boxing: 280K
     * Llama 3 merges load in a fraction of a second), with the id each merge produces.
     */
    static final class MergeTable {
        private final long[] keys;
        private final int[] ranks;
        private final int[] results;
        private final int mask;

        MergeTable(String[] merges, Vocabulary vocab) {
            int cap = Integer.highestOneBit(Math.max(4, merges.length * 2 - 1)) << 1;
            keys = new long[cap];
            java.util.Arrays.fill(keys, -1L);
            ranks = new int[cap];
            mask = cap - 1;
            results = new int[merges.length];
            for (int r = 0; r < merges.length; r++) {
                String m = merges[r];
                // the separator is searched from 1 so that a merge of a space token still splits right
                int sp = m.indexOf(' ', 1);
                results[r] = -1;
                if (sp < 0) {
                    continue;
                }
                int n = m.length();
                int ha = Vocabulary.hash(m, 0, sp);
                int hb = 0;
                int pow = 1;
                for (int i = sp + 1; i < n; i++) {
                    hb = 31 * hb + m.charAt(i);
                    pow *= 31;
                }
                int a = vocab.id(m, 0, sp, sp, sp, ha);
                int b = vocab.id(m, sp + 1, n, sp, sp, hb);
                int merged = vocab.id(m, 0, sp, sp + 1, n, ha * pow + hb);
                if (a < 0 || b < 0 || merged < 0) {
                    continue;
                }
                long key = ((long) a << 32) | (b & 0xffffffffL);
                int slot = slot(key);
                while (keys[slot] != -1L && keys[slot] != key) {
                    slot = (slot + 1) & mask;
                }
                // the first listing of a pair wins, as in the reference engine
                if (keys[slot] == -1L) {
                    keys[slot] = key;
                    ranks[slot] = r;
                    results[r] = merged;
                }
            }
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }

        /** The rank of merging tokens a and b, or -1. */
        int rank(int a, int b) {
            if (a < 0 || b < 0) {
                return -1;
            }
            long key = ((long) a << 32) | (b & 0xffffffffL);
            int slot = slot(key);
            while (true) {
                long k = keys[slot];
                if (k == key) {
                    return ranks[slot];
                }
                if (k == -1L) {
                    return -1;
                }
                slot = (slot + 1) & mask;
            }
        }

        int result(int rank) {
            return results[rank];
        }
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void add(long v) {
            if (size == a.length) {
                a = java.util.Arrays.copyOf(a, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (a[parent] <= v) {
                    break;
                }
                a[i] = a[parent];
                i = parent;
            }
            a[i] = v;
        }

        long poll() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && a[child + 1] < a[child]) {
                    child++;
                }
                if (a[child] >= last) {
                    break;
                }
                a[i] = a[child];
                i = child;
            }
            a[i] = last;
            return top;
        }
    }

    static void checkMerges(GgufFile gguf) {
        if (!gguf.has("tokenizer.ggml.merges")) {
            throw new Think4jException(gguf.path() + ": gpt2 tokenizer without tokenizer.ggml.merges");
        }
    }
}
