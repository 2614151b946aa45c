package dev.think4j.tokenizer;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Token strings, scores and types from {@code tokenizer.ggml.*}, with the special tokens picked out. */
final class Vocabulary {
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    final String[] tokens;
    final float[] scores;
    final int[] types;
    /** Open-addressing index from token text to id + 1 (0 = empty), hashed as String.hashCode. */
    private final int[] index;
    private final int indexMask;
    /** Ids of control, user-defined and unknown tokens, longest text first, for splitting text on them. */
    final int[] specials;
    final int bos;
    final int eos;
    final int eot;
    final int unk;
    final boolean addBos;
    final boolean addSpacePrefix;

    Vocabulary(GgufFile gguf, boolean addBosDefault) {
        tokens = gguf.getStringArray("tokenizer.ggml.tokens");
        if (tokens.length == 0) {
            throw new Think4jException(gguf.path() + ": empty tokenizer vocabulary");
        }
        scores = gguf.has("tokenizer.ggml.scores") ? gguf.getFloatArray("tokenizer.ggml.scores") : new float[tokens.length];
        types = gguf.has("tokenizer.ggml.token_type") ? gguf.getIntArray("tokenizer.ggml.token_type") : filled(tokens.length, NORMAL);
        if (scores.length != tokens.length || types.length != tokens.length) {
            throw new Think4jException(gguf.path() + ": tokenizer arrays differ in length (tokens " + tokens.length
                    + ", scores " + scores.length + ", types " + types.length + ")");
        }
        int cap = Integer.highestOneBit(tokens.length * 2 - 1) << 1;
        index = new int[Math.max(cap, 4)];
        indexMask = index.length - 1;
        for (int i = 0; i < tokens.length; i++) {
            int slot = spread(tokens[i].hashCode());
            while (index[slot] != 0 && !tokens[index[slot] - 1].equals(tokens[i])) {
                slot = (slot + 1) & indexMask;
            }
            // the first of duplicate texts keeps the id
            if (index[slot] == 0) {
                index[slot] = i + 1;
            }
        }
        List<Integer> sp = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            if ((types[i] == CONTROL || types[i] == USER_DEFINED || types[i] == UNKNOWN) && !tokens[i].isEmpty()) {
                sp.add(i);
            }
        }
        // stable sort: equal lengths keep id order
        sp.sort(Comparator.comparingInt((Integer i) -> tokens[i].getBytes(java.nio.charset.StandardCharsets.UTF_8).length).reversed());
        specials = sp.stream().mapToInt(Integer::intValue).toArray();
        bos = specialId(gguf, "tokenizer.ggml.bos_token_id", -1);
        eos = specialId(gguf, "tokenizer.ggml.eos_token_id", -1);
        eot = specialId(gguf, "tokenizer.ggml.eot_token_id", -1);
        unk = specialId(gguf, "tokenizer.ggml.unknown_token_id", id("<unk>"));
        addBos = gguf.getBoolean("tokenizer.ggml.add_bos_token", addBosDefault);
        addSpacePrefix = gguf.getBoolean("tokenizer.ggml.add_space_prefix", true);
    }

    /** A special token id, which must name a token of the vocabulary when the key is present. */
    private int specialId(GgufFile gguf, String key, int absent) {
        if (!gguf.has(key)) {
            return absent;
        }
        long id = gguf.getLong(key);
        if (id < 0 || id >= tokens.length) {
            throw new Think4jException(gguf.path() + ": " + key + " = " + id + " is outside the vocabulary of "
                    + tokens.length + " tokens");
        }
        return (int) id;
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private int spread(int h) {
        return (h ^ (h >>> 16)) * 0x9E3779B1 >>> 7 & indexMask;
    }

    int id(String token) {
        int slot = spread(token.hashCode());
        for (int e; (e = index[slot]) != 0; slot = (slot + 1) & indexMask) {
            if (tokens[e - 1].equals(token)) {
                return e - 1;
            }
        }
        return -1;
    }

    /** String.hashCode of {@code s[from, to)}. */
    static int hash(String s, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + s.charAt(i);
        }
        return h;
    }

    /**
     * The id of the text {@code s[a0, a1) + s[b0, b1)}, whose String.hashCode is {@code h}, without
     * building it: merges are looked up by their halves and their result straight from the merge line.
     */
    int id(String s, int a0, int a1, int b0, int b1, int h) {
        int len = (a1 - a0) + (b1 - b0);
        int slot = spread(h);
        for (int e; (e = index[slot]) != 0; slot = (slot + 1) & indexMask) {
            String t = tokens[e - 1];
            if (t.length() == len && t.regionMatches(0, s, a0, a1 - a0) && t.regionMatches(a1 - a0, s, b0, b1 - b0)) {
                return e - 1;
            }
        }
        return -1;
    }

    boolean isControl(int id) {
        return id >= 0 && id < types.length && types[id] == CONTROL;
    }
}
