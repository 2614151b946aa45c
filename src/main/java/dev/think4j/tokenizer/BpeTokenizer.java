package dev.think4j.tokenizer;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
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

    private final Map<String, Integer> mergeRanks;
    private final PreTokenizer pre;
    private final Map<String, int[]> cache = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, int[]> eldest) {
            return size() > 50_000;
        }
    };

    BpeTokenizer(GgufFile gguf) {
        super(new Vocabulary(gguf, false));
        String[] merges = gguf.getStringArray("tokenizer.ggml.merges");
        mergeRanks = new HashMap<>(merges.length * 2);
        for (int i = 0; i < merges.length; i++) {
            mergeRanks.putIfAbsent(merges[i], i);
        }
        pre = PreTokenizer.forName(gguf.getString("tokenizer.ggml.pre", "default"));
    }

    @Override
    protected void encodeFragment(String text, boolean first, List<Integer> out) {
        for (String piece : pre.split(text)) {
            int[] ids;
            synchronized (cache) {
                ids = cache.get(piece);
            }
            if (ids == null) {
                ids = encodePiece(piece);
                synchronized (cache) {
                    cache.put(piece, ids);
                }
            }
            for (int id : ids) {
                out.add(id);
            }
        }
    }

    private int[] encodePiece(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        StringBuilder mapped = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            mapped.append(BYTE_TO_CHAR[b & 0xff]);
        }
        String word = mapped.toString();
        if (pre.ignoresMerges()) {
            int id = vocab.id(word);
            if (id >= 0) {
                return new int[] {id};
            }
        }
        List<String> sym = new ArrayList<>(word.length());
        for (int i = 0; i < word.length(); i++) {
            sym.add(String.valueOf(word.charAt(i)));
        }
        while (sym.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            int best = -1;
            for (int i = 0; i + 1 < sym.size(); i++) {
                Integer r = mergeRanks.get(sym.get(i) + " " + sym.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            sym.set(best, sym.get(best) + sym.get(best + 1));
            sym.remove(best + 1);
        }
        int[] ids = new int[sym.size()];
        int n = 0;
        for (String s : sym) {
            int id = vocab.id(s);
            if (id >= 0) {
                ids[n++] = id;
            } else if (vocab.unk >= 0) {
                ids[n++] = vocab.unk;
            }
        }
        return java.util.Arrays.copyOf(ids, n);
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

    static void checkMerges(GgufFile gguf) {
        if (!gguf.has("tokenizer.ggml.merges")) {
            throw new Think4jException(gguf.path() + ": gpt2 tokenizer without tokenizer.ggml.merges");
        }
    }
}
