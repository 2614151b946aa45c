package dev.think4j.tokenizer;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
    final Map<String, Integer> ids;
    /** Control and user-defined tokens, longest first, for splitting text on them. */
    final List<String> specials;
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
        ids = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) {
            ids.putIfAbsent(tokens[i], i);
        }
        List<String> sp = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            if ((types[i] == CONTROL || types[i] == USER_DEFINED) && !tokens[i].isEmpty()) {
                sp.add(tokens[i]);
            }
        }
        sp.sort(Comparator.comparingInt(String::length).reversed());
        specials = List.copyOf(sp);
        bos = specialId(gguf, "tokenizer.ggml.bos_token_id", -1);
        eos = specialId(gguf, "tokenizer.ggml.eos_token_id", -1);
        eot = specialId(gguf, "tokenizer.ggml.eot_token_id", -1);
        unk = specialId(gguf, "tokenizer.ggml.unknown_token_id", ids.getOrDefault("<unk>", -1));
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

    int id(String token) {
        return ids.getOrDefault(token, -1);
    }

    boolean isControl(int id) {
        return id >= 0 && id < types.length && types[id] == CONTROL;
    }
}
