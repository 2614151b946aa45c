package dev.think4j.model;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgmlType;
import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufValueType;
import dev.think4j.gguf.GgufWriter;
import dev.think4j.tensor.Quantizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Random-weight GGUF files of a real model's shape, with llama.cpp's tensor names and metadata keys
 * and a working tokenizer (the bundled stories260K vocabulary padded with unused tokens to the
 * shape's vocabulary size). Weights are N(0, 0.02), norms near 1; every tensor is drawn from its own
 * seeded generator, in parallel row blocks, and streamed to disk.
 */
public final class SyntheticModel {
    private static final int ROWS_PER_BLOCK = 64;

    private SyntheticModel() {
    }

    public static void write(ModelShape s, GgmlType type, Path out, long seed, Path vocabularySource, Consumer<String> progress) {
        if (!List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
                GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
                GgmlType.IQ4_NL, GgmlType.IQ4_XS).contains(type)) {
            throw new Think4jException("synthetic weights can be F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, "
                    + "IQ4_NL or IQ4_XS, not " + type);
        }
        String a = s.architecture();
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", a);
        w.putString("general.name", "think4j synthetic " + s.name());
        w.putUInt32(a + ".context_length", s.contextLength());
        w.putUInt32(a + ".embedding_length", s.dim());
        w.putUInt32(a + ".block_count", s.layers());
        w.putUInt32(a + ".feed_forward_length", s.hiddenDim());
        w.putUInt32(a + ".attention.head_count", s.heads());
        w.putUInt32(a + ".attention.head_count_kv", s.kvHeads());
        w.putUInt32(a + ".attention.key_length", s.headDim());
        w.putUInt32(a + ".attention.value_length", s.headDim());
        w.putUInt32(a + ".rope.dimension_count", s.headDim());
        w.putFloat32(a + ".rope.freq_base", s.ropeTheta());
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", s.rmsEps());
        putTokenizer(w, s.vocab(), vocabularySource);

        long seedBase = seed;
        java.util.function.BiConsumer<String, long[]> matrix = (name, shape) -> w.addTensor(name, shape, blockFriendly(type, shape[0]),
                sink -> writeRandom(sink, blockFriendly(type, shape[0]), (int) shape[0], (int) shape[1], 0.02, seedBase + name.hashCode()));
        java.util.function.BiConsumer<String, Integer> norm = (name, n) -> w.addTensor(name, new long[] {n}, GgmlType.F32,
                sink -> writeRandom(sink, GgmlType.F32, n, 1, -1, seedBase + name.hashCode()));
        matrix.accept("token_embd.weight", new long[] {s.dim(), s.vocab()});
        if (s.llama3RopeScaling()) {
            w.addTensor("rope_freqs.weight", new long[] {s.headDim() / 2}, GgmlType.F32,
                    Quantizer.quantize(GgmlType.F32, llama3FreqFactors(s.headDim(), s.ropeTheta(), 32f, 1f, 4f, 8192)));
        }
        int qd = s.heads() * s.headDim();
        int kvd = s.kvHeads() * s.headDim();
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            norm.accept(p + "attn_norm.weight", s.dim());
            matrix.accept(p + "attn_q.weight", new long[] {s.dim(), qd});
            matrix.accept(p + "attn_k.weight", new long[] {s.dim(), kvd});
            matrix.accept(p + "attn_v.weight", new long[] {s.dim(), kvd});
            matrix.accept(p + "attn_output.weight", new long[] {qd, s.dim()});
            if (a.equals("qwen2")) {
                for (String b : new String[] {"attn_q.bias", "attn_k.bias", "attn_v.bias"}) {
                    int n = b.startsWith("attn_q") ? qd : kvd;
                    w.addTensor(p + b, new long[] {n}, GgmlType.F32, sink -> writeRandom(sink, GgmlType.F32, n, 1, 0.02, seedBase + (p + b).hashCode()));
                }
            }
            if (a.equals("qwen3")) {
                norm.accept(p + "attn_q_norm.weight", s.headDim());
                norm.accept(p + "attn_k_norm.weight", s.headDim());
            }
            norm.accept(p + "ffn_norm.weight", s.dim());
            matrix.accept(p + "ffn_gate.weight", new long[] {s.dim(), s.hiddenDim()});
            matrix.accept(p + "ffn_up.weight", new long[] {s.dim(), s.hiddenDim()});
            matrix.accept(p + "ffn_down.weight", new long[] {s.hiddenDim(), s.dim()});
        }
        norm.accept("output_norm.weight", s.dim());
        if (!s.tiedOutput()) {
            matrix.accept("output.weight", new long[] {s.dim(), s.vocab()});
        }
        if (progress != null) {
            progress.accept("writing " + out + " (" + s.name() + ", " + type + ", " + String.format("%.2f", s.parameterCount() / 1e9) + " B parameters)");
        }
        w.write(out);
    }

    /** Rows whose length is not a multiple of the type's block fall back to F16 (as llama.cpp's quantizer does). */
    private static GgmlType blockFriendly(GgmlType type, long rowLength) {
        return rowLength % type.blockSize() == 0 ? type : GgmlType.F16;
    }

    /** std < 0 means a norm weight: 1 plus small noise. */
    private static void writeRandom(GgufWriter.ByteSink sink, GgmlType type, int cols, int rows, double std, long seed)
            throws java.io.IOException {
        int blocks = (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
        int batch = Math.max(1, Runtime.getRuntime().availableProcessors() * 2);
        for (int b0 = 0; b0 < blocks; b0 += batch) {
            int from = b0;
            byte[][] parts = IntStream.range(from, Math.min(blocks, from + batch)).parallel().mapToObj(b -> {
                int r0 = b * ROWS_PER_BLOCK;
                int r1 = Math.min(rows, r0 + ROWS_PER_BLOCK);
                SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + b);
                float[] v = new float[(r1 - r0) * cols];
                for (int i = 0; i < v.length; i++) {
                    v[i] = std < 0 ? (float) (1 + 0.05 * rnd.nextGaussian()) : (float) (std * rnd.nextGaussian());
                }
                return Quantizer.quantize(type, v);
            }).toArray(byte[][]::new);
            for (byte[] p : parts) {
                sink.write(p);
            }
        }
    }

    /** Llama 3.1's per-frequency divisors (rope_freqs) from its scaling parameters. */
    static float[] llama3FreqFactors(int headDim, float theta, float factor, float lowFreqFactor, float highFreqFactor, int originalContext) {
        float[] f = new float[headDim / 2];
        double lowWavelen = originalContext / lowFreqFactor;
        double highWavelen = originalContext / highFreqFactor;
        for (int i = 0; i < f.length; i++) {
            double freq = Math.pow(theta, -2.0 * i / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                f[i] = 1f;
            } else if (wavelen > lowWavelen) {
                f[i] = factor;
            } else {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                f[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return f;
    }

    /**
     * The tokenizer of {@code source}: a vocabulary of exactly the shape's size (a real model's
     * vocabulary GGUF such as Llama 3's) is copied key for key, so the file tokenizes as the real
     * model does; a smaller llama SPM vocabulary is padded with unused tokens.
     */
    private static void putTokenizer(GgufWriter w, int vocab, Path source) {
        try (GgufFile src = GgufFile.open(source)) {
            if (!src.has("tokenizer.ggml.tokens")) {
                throw new Think4jException(source + " has no tokenizer (no tokenizer.ggml.tokens)");
            }
            int size = src.getStringArray("tokenizer.ggml.tokens").length;
            if (size == vocab || !"llama".equals(src.getString("tokenizer.ggml.model", ""))) {
                if (size > vocab) {
                    throw new Think4jException("vocabulary of " + source + " has " + size + " tokens, more than the shape's " + vocab);
                }
                copyTokenizer(w, src, vocab);
                return;
            }
            String[] tokens = src.getStringArray("tokenizer.ggml.tokens");
            float[] scores = src.getFloatArray("tokenizer.ggml.scores");
            int[] types = src.getIntArray("tokenizer.ggml.token_type");
            if (vocab < tokens.length) {
                throw new Think4jException("shape vocabulary " + vocab + " is smaller than the source vocabulary " + tokens.length);
            }
            w.putString("tokenizer.ggml.model", "llama");
            w.putArray("tokenizer.ggml.tokens", GgufValueType.STRING, padVocabArray("tokenizer.ggml.tokens", tokens, vocab));
            w.putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, padVocabArray("tokenizer.ggml.scores", scores, vocab));
            w.putArray("tokenizer.ggml.token_type", GgufValueType.INT32, padVocabArray("tokenizer.ggml.token_type", types, vocab));
            w.putUInt32("tokenizer.ggml.bos_token_id", src.getInt("tokenizer.ggml.bos_token_id", 1));
            w.putUInt32("tokenizer.ggml.eos_token_id", src.getInt("tokenizer.ggml.eos_token_id", 2));
            w.putUInt32("tokenizer.ggml.unknown_token_id", src.getInt("tokenizer.ggml.unknown_token_id", 0));
        }
    }

    /**
     * Copies every tokenizer.* key; a vocabulary smaller than the shape gets padding tokens of type
     * UNUSED (see {@link #padVocabArray}).
     */
    private static void copyTokenizer(GgufWriter w, GgufFile src, int vocab) {
        for (var e : src.metadata().entrySet()) {
            String key = e.getKey();
            if (!key.startsWith("tokenizer.")) {
                continue;
            }
            Object v = e.getValue();
            GgufValueType type = src.metadataType(key);
            if (type == GgufValueType.ARRAY) {
                v = padVocabArray(key, v, vocab);
                w.putArray(key, arrayElementType(v), v);
            } else {
                w.put(key, type, v);
            }
        }
    }

    /** Token texts, types and scores padded to {@code vocab} entries with unused tokens; other arrays as they are. */
    private static Object padVocabArray(String key, Object v, int vocab) {
        return switch (key) {
            case "tokenizer.ggml.tokens" -> {
                String[] t = (String[]) v;
                String[] out = java.util.Arrays.copyOf(t, vocab);
                for (int i = t.length; i < vocab; i++) {
                    out[i] = "<unused_" + (i - t.length) + ">";
                }
                yield out;
            }
            case "tokenizer.ggml.token_type" -> {
                int[] t = (int[]) v;
                int[] out = java.util.Arrays.copyOf(t, vocab);
                java.util.Arrays.fill(out, t.length, vocab, 5); // UNUSED
                yield out;
            }
            case "tokenizer.ggml.scores" -> {
                float[] t = (float[]) v;
                float[] out = java.util.Arrays.copyOf(t, vocab);
                java.util.Arrays.fill(out, t.length, vocab, -1e9f);
                yield out;
            }
            default -> v;
        };
    }

    private static GgufValueType arrayElementType(Object v) {
        return switch (v) {
            case String[] a -> GgufValueType.STRING;
            case int[] a -> GgufValueType.INT32;
            case float[] a -> GgufValueType.FLOAT32;
            case long[] a -> GgufValueType.INT64;
            case byte[] a -> GgufValueType.UINT8;
            case short[] a -> GgufValueType.INT16;
            case double[] a -> GgufValueType.FLOAT64;
            case boolean[] a -> GgufValueType.BOOL;
            default -> throw new Think4jException("cannot copy tokenizer array of " + v.getClass().getSimpleName());
        };
    }
}
