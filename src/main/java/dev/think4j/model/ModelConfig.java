package dev.think4j.model;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import java.util.Set;

/**
 * Hyper-parameters of a Llama-family model, read from GGUF metadata with llama.cpp's defaults.
 *
 * @param ropeNeox     true when RoPE rotates pairs (i, i + rotDim/2) (qwen2, qwen3), false for
 *                     adjacent pairs (2i, 2i+1) as llama GGUF files expect after conversion
 * @param ropeDim      number of leading channels of a head that RoPE rotates
 * @param ropeScale    linear position scaling (positions are divided by it), 1 when absent
 */
public record ModelConfig(
        String architecture,
        int dim,
        int hiddenDim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int vocabSize,
        int contextLength,
        float rmsEps,
        float ropeTheta,
        int ropeDim,
        boolean ropeNeox,
        float ropeScale,
        boolean qkvBias,
        boolean qkNorm) {

    public static final Set<String> ARCHITECTURES = Set.of("llama", "qwen2", "qwen3");

    public ModelConfig {
        if (heads % kvHeads != 0) {
            throw new Think4jException("head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        }
        if (ropeDim > headDim || ropeDim % 2 != 0) {
            throw new Think4jException("rope dimension " + ropeDim + " must be even and <= head dim " + headDim);
        }
    }

    public static ModelConfig fromGguf(GgufFile gguf, int vocabSize) {
        String arch = gguf.getString("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new Think4jException("unsupported architecture '" + arch + "' in " + gguf.path()
                    + " (supported: llama, qwen2, qwen3)");
        }
        int dim = gguf.getInt(arch + ".embedding_length");
        int layers = gguf.getInt(arch + ".block_count");
        int heads = gguf.getInt(arch + ".attention.head_count");
        int kvHeads = gguf.getInt(arch + ".attention.head_count_kv", heads);
        int headDim = gguf.getInt(arch + ".attention.key_length", dim / heads);
        int valueDim = gguf.getInt(arch + ".attention.value_length", headDim);
        if (valueDim != headDim) {
            throw new Think4jException("key_length " + headDim + " != value_length " + valueDim + " is not supported");
        }
        int hidden = gguf.getInt(arch + ".feed_forward_length");
        int ctx = gguf.getInt(arch + ".context_length", 2048);
        float eps = gguf.getFloat(arch + ".attention.layer_norm_rms_epsilon", arch.equals("llama") ? 1e-5f : 1e-6f);
        float theta = gguf.getFloat(arch + ".rope.freq_base", 10000f);
        int ropeDim = gguf.getInt(arch + ".rope.dimension_count", headDim);
        float ropeScale = 1f;
        String scalingType = gguf.getString(arch + ".rope.scaling.type", "none");
        if (scalingType.equals("linear")) {
            ropeScale = gguf.getFloat(arch + ".rope.scaling.factor", 1f);
        } else if (!scalingType.equals("none") && !scalingType.equals("llama3")) {
            throw new Think4jException("unsupported rope scaling type '" + scalingType + "' (supported: none, linear, llama3)");
        }
        boolean neox = !arch.equals("llama");
        return new ModelConfig(arch, dim, hidden, layers, heads, kvHeads, headDim, vocabSize, ctx, eps, theta,
                ropeDim, neox, ropeScale, arch.equals("qwen2"), arch.equals("qwen3"));
    }

    public int queryDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Query heads per KV head (GQA group size). */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** Bytes one token occupies in a dense F32 KV cache (keys and values, all layers). */
    public long denseKvBytesPerToken() {
        return 2L * layers * kvHeads * headDim * Float.BYTES;
    }
}
