package dev.think4j.model;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufTensorInfo;
import dev.think4j.tensor.FloatTensor;
import dev.think4j.tensor.UnsupportedTensorTypeException;

/**
 * All weights of a model, as views over the mapped GGUF file (matrices stay in their storage type;
 * small vectors such as norms are decoded to float[]). {@code ropeFreqFactors} is Llama 3.1's
 * per-frequency divisor table, null when absent.
 */
public record Weights(
        FloatTensor tokenEmbedding,
        LayerWeights[] layers,
        float[] outputNorm,
        FloatTensor output,
        float[] ropeFreqFactors) {

    public static Weights load(GgufFile gguf, ModelConfig c) {
        requireBlocks(gguf, c.layers());
        FloatTensor embedding = matrix(gguf, "token_embd.weight", c.dim(), c.vocabSize());
        LayerWeights[] layers = new LayerWeights[c.layers()];
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            layers[i] = new LayerWeights(
                    vector(gguf, p + "attn_norm.weight", c.dim()),
                    matrix(gguf, p + "attn_q.weight", c.dim(), c.queryDim()),
                    matrix(gguf, p + "attn_k.weight", c.dim(), c.kvDim()),
                    matrix(gguf, p + "attn_v.weight", c.dim(), c.kvDim()),
                    matrix(gguf, p + "attn_output.weight", c.queryDim(), c.dim()),
                    c.qkvBias() ? vector(gguf, p + "attn_q.bias", c.queryDim()) : null,
                    c.qkvBias() ? vector(gguf, p + "attn_k.bias", c.kvDim()) : null,
                    c.qkvBias() ? vector(gguf, p + "attn_v.bias", c.kvDim()) : null,
                    c.qkNorm() ? vector(gguf, p + "attn_q_norm.weight", c.headDim()) : null,
                    c.qkNorm() ? vector(gguf, p + "attn_k_norm.weight", c.headDim()) : null,
                    vector(gguf, p + "ffn_norm.weight", c.dim()),
                    matrix(gguf, p + "ffn_gate.weight", c.dim(), c.hiddenDim()),
                    matrix(gguf, p + "ffn_up.weight", c.dim(), c.hiddenDim()),
                    matrix(gguf, p + "ffn_down.weight", c.hiddenDim(), c.dim()));
        }
        float[] outputNorm = vector(gguf, "output_norm.weight", c.dim());
        FloatTensor output = gguf.hasTensor("output.weight")
                ? matrix(gguf, "output.weight", c.dim(), c.vocabSize())
                : embedding; // tied output
        float[] freqFactors = gguf.hasTensor("rope_freqs.weight")
                ? vector(gguf, "rope_freqs.weight", c.ropeDim() / 2) : null;
        if (freqFactors != null) {
            for (int i = 0; i < freqFactors.length; i++) {
                if (!(freqFactors[i] > 0)) {
                    throw new Think4jException(gguf.path() + ": tensor 'rope_freqs.weight' element " + i + " is "
                            + freqFactors[i] + "; RoPE frequency factors must be > 0");
                }
            }
        }
        return new Weights(embedding, layers, outputNorm, output, freqFactors);
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
