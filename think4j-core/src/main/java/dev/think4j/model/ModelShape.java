package dev.think4j.model;

import dev.think4j.Think4jException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The hyper-parameters of a real model, for synthetic random-weight GGUF files of the same shape
 * (benchmarks and tests). {@code llama3RopeScaling} adds Llama 3.1/3.2's rope_freqs table.
 */
public record ModelShape(String name, String architecture, int dim, int layers, int heads, int kvHeads, int headDim,
                         int hiddenDim, int vocab, int contextLength, float ropeTheta, boolean tiedOutput,
                         boolean llama3RopeScaling, float rmsEps) {

    public static final Map<String, ModelShape> PRESETS = presets();

    private static Map<String, ModelShape> presets() {
        Map<String, ModelShape> m = new LinkedHashMap<>();
        add(m, new ModelShape("llama-3.2-1b", "llama", 2048, 16, 32, 8, 64, 8192, 128256, 131072, 500000f, true, true, 1e-5f));
        add(m, new ModelShape("llama-3.2-3b", "llama", 3072, 28, 24, 8, 128, 8192, 128256, 131072, 500000f, true, true, 1e-5f));
        add(m, new ModelShape("llama-3-8b", "llama", 4096, 32, 32, 8, 128, 14336, 128256, 8192, 500000f, false, false, 1e-5f));
        add(m, new ModelShape("mistral-7b", "llama", 4096, 32, 32, 8, 128, 14336, 32000, 32768, 1000000f, false, false, 1e-5f));
        add(m, new ModelShape("qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1000000f, true, false, 1e-6f));
        add(m, new ModelShape("qwen3-0.6b", "qwen3", 1024, 28, 16, 8, 128, 3072, 151936, 40960, 1000000f, true, false, 1e-6f));
        // the 1B's attention geometry (head dim 64, 4 query heads per KV head) in a model small enough
        // to generate 32K tokens in minutes: long-context memory runs
        add(m, new ModelShape("mini-hd64", "llama", 512, 4, 8, 2, 64, 1536, 32000, 32768, 500000f, true, false, 1e-5f));
        add(m, new ModelShape("tiny", "llama", 64, 2, 4, 2, 16, 128, 512, 1024, 10000f, false, false, 1e-5f));
        add(m, new ModelShape("tiny-qwen3", "qwen3", 64, 2, 4, 2, 16, 128, 512, 1024, 1000000f, true, false, 1e-6f));
        add(m, new ModelShape("tiny-qwen2", "qwen2", 64, 2, 4, 2, 16, 128, 512, 1024, 1000000f, true, false, 1e-6f));
        return Map.copyOf(m);
    }

    private static void add(Map<String, ModelShape> m, ModelShape s) {
        m.put(s.name(), s);
    }

    public static ModelShape named(String name) {
        ModelShape s = PRESETS.get(name);
        if (s == null) {
            throw new Think4jException("unknown shape '" + name + "' (known: " + String.join(", ", new java.util.TreeSet<>(PRESETS.keySet())) + ")");
        }
        return s;
    }

    /** Parameters a file of this shape holds (tied embeddings counted once). */
    public long parameterCount() {
        long qd = (long) heads * headDim;
        long kvd = (long) kvHeads * headDim;
        long perLayer = 2L * dim + dim * qd + 2 * dim * kvd + qd * dim + 3L * dim * hiddenDim;
        if (architecture.equals("qwen2")) {
            perLayer += qd + 2 * kvd;
        }
        if (architecture.equals("qwen3")) {
            perLayer += 2L * headDim;
        }
        long total = (long) vocab * dim + layers * perLayer + dim;
        if (!tiedOutput) {
            total += (long) vocab * dim;
        }
        if (llama3RopeScaling) {
            total += headDim / 2;
        }
        return total;
    }
}
