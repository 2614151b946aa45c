package dev.think4j.model;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufTensorInfo;
import dev.think4j.tensor.FloatTensor;
import dev.think4j.tensor.UnsupportedTensorTypeException;

/**
 * All weights of a model, as views over the mapped GGUF file (matrices stay in their storage type;
 * small vectors such as norms are decoded to float[]). {@code ropeFreqFactors} is Llama 3.1's
 * per-frequency divisor table, null when absent; {@code longRope} Phi-3's pair of such tables, null
 * when absent. {@code ropeAttnFactor} ({@code rope.scaling.attn_factor}, 1 when absent) scales the
 * rotated channels of queries and keys, as llama.cpp's RoPE does with it.
 */
public record Weights(
        FloatTensor tokenEmbedding,
        LayerWeights[] layers,
        float[] outputNorm,
        FloatTensor output,
        float[] ropeFreqFactors,
        LongRope longRope,
        float ropeAttnFactor) {

    /**
     * LongRoPE's frequency divisors: {@code longFactors} serve contexts longer than the original
     * training context, {@code shortFactors} the others.
     */
    public record LongRope(float[] shortFactors, float[] longFactors, int originalContext) {
    }

    /**
     * The RoPE frequency divisors for sequences of up to {@code contextLength} tokens, or null for
     * none. As in llama.cpp the choice between LongRoPE's sets follows the configured context, not
     * the current position, so one sequence never switches sets midway.
     */
    public float[] ropeFactors(int contextLength) {
        if (ropeFreqFactors != null || longRope == null) {
            return ropeFreqFactors;
        }
        return contextLength > longRope.originalContext() ? longRope.longFactors() : longRope.shortFactors();
    }

    public static Weights load(GgufFile gguf, ModelConfig c) {
        requireBlocks(gguf, c.layers());
        FloatTensor embedding = matrix(gguf, "token_embd.weight", c.dim(), c.vocabSize());
        LayerWeights[] layers = new LayerWeights[c.layers()];
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            // Phi-3 fuses Q, K and V into one matrix and gate and up into another; their row ranges
            // are views of the same bytes, so the forward pass sees the usual separate matrices
            FloatTensor[] qkv = gguf.hasTensor(p + "attn_qkv.weight")
                    ? rowSplit(gguf, p + "attn_qkv.weight", c.dim(), c.queryDim(), c.kvDim(), c.kvDim())
                    : new FloatTensor[] {
                            matrix(gguf, p + "attn_q.weight", c.dim(), c.queryDim()),
                            matrix(gguf, p + "attn_k.weight", c.dim(), c.kvDim()),
                            matrix(gguf, p + "attn_v.weight", c.dim(), c.kvDim())};
            // llama.cpp's fused SwiGLU: the first half of ffn_up's rows is the gate
            FloatTensor[] gateUp = c.architecture().equals("phi3")
                    ? rowSplit(gguf, p + "ffn_up.weight", c.dim(), c.hiddenDim(), c.hiddenDim())
                    : new FloatTensor[] {
                            matrix(gguf, p + "ffn_gate.weight", c.dim(), c.hiddenDim()),
                            matrix(gguf, p + "ffn_up.weight", c.dim(), c.hiddenDim())};
            layers[i] = new LayerWeights(
                    vector(gguf, p + "attn_norm.weight", c.dim()),
                    qkv[0],
                    qkv[1],
                    qkv[2],
                    matrix(gguf, p + "attn_output.weight", c.queryDim(), c.dim()),
                    c.qkvBias() ? vector(gguf, p + "attn_q.bias", c.queryDim()) : null,
                    c.qkvBias() ? vector(gguf, p + "attn_k.bias", c.kvDim()) : null,
                    c.qkvBias() ? vector(gguf, p + "attn_v.bias", c.kvDim()) : null,
                    c.qkNorm() ? vector(gguf, p + "attn_q_norm.weight", c.headDim()) : null,
                    c.qkNorm() ? vector(gguf, p + "attn_k_norm.weight", c.headDim()) : null,
                    vector(gguf, p + "ffn_norm.weight", c.dim()),
                    gateUp[0],
                    gateUp[1],
                    matrix(gguf, p + "ffn_down.weight", c.hiddenDim(), c.dim()),
                    c.gemma() ? vector(gguf, p + "post_attention_norm.weight", c.dim()) : null,
                    c.gemma() ? vector(gguf, p + "post_ffw_norm.weight", c.dim()) : null);
        }
        float[] outputNorm = vector(gguf, "output_norm.weight", c.dim());
        FloatTensor output = gguf.hasTensor("output.weight")
                ? matrix(gguf, "output.weight", c.dim(), c.vocabSize())
                : embedding; // tied output
        float[] freqFactors = ropeFactorTable(gguf, "rope_freqs.weight", c);
        LongRope longRope = null;
        if (gguf.hasTensor("rope_factors_long.weight") || gguf.hasTensor("rope_factors_short.weight")) {
            String key = c.architecture() + ".rope.scaling.original_context_length";
            long original = gguf.has(key) ? gguf.getLong(key) : c.contextLength();
            if (original < 1 || original > Integer.MAX_VALUE) {
                throw new Think4jException(gguf.path() + ": " + key + " = " + original + " is out of range");
            }
            longRope = new LongRope(requiredFactorTable(gguf, "rope_factors_short.weight", c),
                    requiredFactorTable(gguf, "rope_factors_long.weight", c), (int) original);
        }
        String attnKey = c.architecture() + ".rope.scaling.attn_factor";
        float attnFactor = gguf.getFloat(attnKey, 1f);
        if (!(attnFactor > 0) || !Float.isFinite(attnFactor)) {
            throw new Think4jException(gguf.path() + ": " + attnKey + " = " + attnFactor + " must be a finite number > 0");
        }
        return new Weights(embedding, layers, outputNorm, output, freqFactors, longRope, attnFactor);
    }

    /** A table of RoPE frequency divisors (one per rotated pair, all > 0), or null when the file has none. */
    private static float[] ropeFactorTable(GgufFile gguf, String name, ModelConfig c) {
        if (!gguf.hasTensor(name)) {
            return null;
        }
        float[] f = vector(gguf, name, c.ropeDim() / 2);
        for (int i = 0; i < f.length; i++) {
            if (!(f[i] > 0)) {
                throw new Think4jException(gguf.path() + ": tensor '" + name + "' element " + i + " is " + f[i]
                        + "; RoPE frequency factors must be > 0");
            }
        }
        return f;
    }

    private static float[] requiredFactorTable(GgufFile gguf, String name, ModelConfig c) {
        require(gguf, name);
        return ropeFactorTable(gguf, name, c);
    }

    /** Consecutive row ranges of a [sum(rows) x cols] matrix, each a view of its share of the bytes. */
    private static FloatTensor[] rowSplit(GgufFile gguf, String name, int cols, int... rows) {
        int total = 0;
        for (int r : rows) {
            total += r;
        }
        matrix(gguf, name, cols, total); // checks the shape and the type
        GgufTensorInfo info = require(gguf, name);
        if (cols % info.type().blockSize() != 0) {
            throw new Think4jException(gguf.path() + ": tensor '" + name + "' rows of " + cols + " values do not hold whole "
                    + info.type() + " blocks");
        }
        long rowBytes = info.type().byteSize(cols);
        java.lang.foreign.MemorySegment data = gguf.tensorData(info);
        FloatTensor[] out = new FloatTensor[rows.length];
        long first = 0;
        for (int i = 0; i < rows.length; i++) {
            out[i] = FloatTensor.of(info.type(), data.asSlice(first * rowBytes, rows[i] * rowBytes), (long) rows[i] * cols);
            first += rows[i];
        }
        return out;
    }

    /**
     * The file must hold tensors for exactly {@code layers} blocks, checked before anything is
     * allocated per layer (a corrupt block_count of 2^31-1 would otherwise exhaust memory first).
     */
    private static void requireBlocks(GgufFile gguf, int layers) {
        java.util.Set<Integer> present = new java.util.HashSet<>();
        for (String name : gguf.tensors().keySet()) {
            if (name.startsWith("blk.")) {
                int dot = name.indexOf('.', 4);
                try {
                    int index = Integer.parseInt(name.substring(4, dot < 0 ? name.length() : dot));
                    if (index >= 0) {
                        present.add(index);
                    }
                } catch (NumberFormatException e) {
                    // not a block tensor name; the loader ignores it
                }
            }
        }
        if (present.size() != layers) {
            throw new Think4jException(gguf.path() + ": block_count is " + layers + " but the file has tensors for "
                    + present.size() + " blocks");
        }
    }

    private static GgufTensorInfo require(GgufFile gguf, String name) {
        GgufTensorInfo info = gguf.tensor(name);
        if (info == null) {
            throw new Think4jException(gguf.path() + ": missing tensor '" + name + "'");
        }
        return info;
    }

    /** A [rows x cols] matrix stored with ne0 = cols. */
    static FloatTensor matrix(GgufFile gguf, String name, int cols, int rows) {
        GgufTensorInfo info = require(gguf, name);
        long[] s = info.shape();
        long r = info.elementCount() / s[0];
        if (s[0] != cols || r != rows) {
            throw new Think4jException(gguf.path() + ": tensor '" + name + "' has shape " + java.util.Arrays.toString(s)
                    + ", expected [" + cols + ", " + rows + "]");
        }
        return view(gguf, info);
    }

    /** The tensor's view, with the tensor named when its type is one the kernels do not handle. */
    private static FloatTensor view(GgufFile gguf, GgufTensorInfo info) {
        try {
            return FloatTensor.of(info.type(), gguf.tensorData(info), info.elementCount());
        } catch (UnsupportedTensorTypeException e) {
            throw new Think4jException(gguf.path() + ": tensor '" + info.name() + "': " + e.getMessage());
        }
    }

    static float[] vector(GgufFile gguf, String name, int length) {
        GgufTensorInfo info = require(gguf, name);
        if (info.elementCount() != length) {
            throw new Think4jException(gguf.path() + ": tensor '" + name + "' has " + info.elementCount()
                    + " elements, expected " + length);
        }
        float[] out = new float[length];
        view(gguf, info).dequantize(0, out, 0, length);
        // Norms and biases are few and decoded anyway; a NaN there would poison every activation.
        for (int i = 0; i < length; i++) {
            if (!Float.isFinite(out[i])) {
                throw new Think4jException(gguf.path() + ": tensor '" + name + "' holds a non-finite value (" + out[i]
                        + ") at element " + i);
            }
        }
        return out;
    }
}
