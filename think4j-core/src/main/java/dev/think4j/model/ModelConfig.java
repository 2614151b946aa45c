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
    /**
     * Bound on widths (embedding, FFN, heads x head size): far above any real model, low enough
     * that products of widths and chunk sizes cannot overflow an int.
     */
    public static final int MAX_WIDTH = 1 << 24;

    public ModelConfig {
        if (dim < 1 || hiddenDim < 1 || layers < 1 || heads < 1 || kvHeads < 1 || headDim < 1 || contextLength < 1) {
            throw new Think4jException("model sizes must be positive: dim " + dim + ", ffn " + hiddenDim + ", layers " + layers
                    + ", heads " + heads + "/" + kvHeads + ", head dim " + headDim + ", context " + contextLength);
        }
        if (heads % kvHeads != 0) {
            throw new Think4jException("head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        }
        if (ropeDim < 0 || ropeDim > headDim || ropeDim % 2 != 0) {
            throw new Think4jException("rope dimension " + ropeDim + " must be even and <= head dim " + headDim);
        }
        if (!(rmsEps > 0) || !Float.isFinite(rmsEps) || !(ropeTheta > 0) || !Float.isFinite(ropeTheta)
                || !(ropeScale > 0) || !Float.isFinite(ropeScale)) {
            throw new Think4jException("epsilon " + rmsEps + ", rope base " + ropeTheta + " and rope scale " + ropeScale
                    + " must be finite and > 0");
        }
    }

    /**
     * Reads and validates the hyper-parameters: every value must have a numeric type of the right
     * kind and a usable range, so a corrupt file fails here with the key's name instead of dividing
     * by zero, allocating absurd buffers or computing NaN later.
     */
    public static ModelConfig fromGguf(GgufFile gguf, int vocabSize) {
        String arch = gguf.getString("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new Think4jException(gguf.path() + ": unsupported architecture '" + GgufFile.printable(arch) + "'"
                    + " (supported: llama, qwen2, qwen3)");
        }
        Keys k = new Keys(gguf, arch);
        int dim = k.size("embedding_length", null, 1, MAX_WIDTH);
        int layers = k.size("block_count", null, 1, Integer.MAX_VALUE);
        int heads = k.size("attention.head_count", null, 1, MAX_WIDTH);
        int kvHeads = k.size("attention.head_count_kv", heads, 1, heads);
        if (heads % kvHeads != 0) {
            throw k.error(arch + ".attention.head_count " + heads + " is not a multiple of " + arch
                    + ".attention.head_count_kv " + kvHeads);
        }
        if (!gguf.has(arch + ".attention.key_length") && dim % heads != 0) {
            throw k.error(arch + ".embedding_length " + dim + " is not a multiple of " + arch + ".attention.head_count "
                    + heads + " (and " + arch + ".attention.key_length is not given)");
        }
        int headDim = k.size("attention.key_length", dim / heads, 1, MAX_WIDTH / heads);
        int valueDim = k.size("attention.value_length", headDim, 1, MAX_WIDTH / heads);
        if (valueDim != headDim) {
            throw k.error(arch + ".attention.key_length " + headDim + " != " + arch + ".attention.value_length " + valueDim
                    + " is not supported");
        }
        int hidden = k.size("feed_forward_length", null, 1, MAX_WIDTH);
        int ctx = k.size("context_length", 2048, 1, Integer.MAX_VALUE);
        float eps = k.positive("attention.layer_norm_rms_epsilon", arch.equals("llama") ? 1e-5f : 1e-6f);
        float theta = k.positive("rope.freq_base", 10000f);
        int ropeDim = k.size("rope.dimension_count", headDim, 0, headDim);
        if (ropeDim % 2 != 0) {
            throw k.error(arch + ".rope.dimension_count " + ropeDim + " must be even");
        }
        float ropeScale = 1f;
        String scalingType = gguf.getString(arch + ".rope.scaling.type", "none");
        if (scalingType.equals("linear")) {
            ropeScale = k.positive("rope.scaling.factor", 1f);
        } else if (!scalingType.equals("none") && !scalingType.equals("llama3")) {
            throw new Think4jException(gguf.path() + ": unsupported rope scaling type '" + GgufFile.printable(scalingType) + "' (supported: none, linear, llama3)");
        }
        boolean neox = !arch.equals("llama");
        return new ModelConfig(arch, dim, hidden, layers, heads, kvHeads, headDim, vocabSize, ctx, eps, theta,
                ropeDim, neox, ropeScale, arch.equals("qwen2"), arch.equals("qwen3"));
    }

    /** Typed, range-checked reads of {@code <arch>.*} keys with errors that name the key and the file. */
    private record Keys(GgufFile gguf, String arch) {
        int size(String key, Integer defaultValue, int min, int max) {
            String full = arch + "." + key;
            if (!gguf.has(full)) {
                if (defaultValue == null) {
                    gguf.getLong(full); // throws "missing required metadata"
                }
                return defaultValue;
            }
            long v = gguf.getLong(full);
            if (v < min || v > max) {
                throw error(full + " = " + v + " is out of range (" + min + " to " + max + ")");
            }
            return (int) v;
        }

        float positive(String key, float defaultValue) {
            String full = arch + "." + key;
            float v = gguf.getFloat(full, defaultValue);
            if (!(v > 0) || !Float.isFinite(v)) {
                throw error(full + " = " + v + " must be a finite number > 0");
            }
            return v;
        }

        Think4jException error(String message) {
            return new Think4jException(gguf.path() + ": " + message);
        }
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
