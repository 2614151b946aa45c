package dev.think4j.model;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufTensorInfo;
import dev.think4j.tensor.FloatTensor;

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
        return new Weights(embedding, layers, outputNorm, output, freqFactors);
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
        return FloatTensor.of(info.type(), gguf.tensorData(info), info.elementCount());
    }

    static float[] vector(GgufFile gguf, String name, int length) {
        GgufTensorInfo info = require(gguf, name);
        if (info.elementCount() != length) {
            throw new Think4jException(gguf.path() + ": tensor '" + name + "' has " + info.elementCount()
                    + " elements, expected " + length);
        }
        float[] out = new float[length];
        FloatTensor.of(info.type(), gguf.tensorData(info), length).dequantize(0, out, 0, length);
        return out;
    }
}
