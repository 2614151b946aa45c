package dev.think4j.model;

import dev.think4j.tensor.FloatTensor;

/** One transformer block's weights; biases and q/k norms are null when the architecture has none. */
public record LayerWeights(
        float[] attnNorm,
        FloatTensor wq,
        FloatTensor wk,
        FloatTensor wv,
        FloatTensor wo,
        float[] bq,
        float[] bk,
        float[] bv,
        float[] qNorm,
        float[] kNorm,
        float[] ffnNorm,
        FloatTensor wGate,
        FloatTensor wUp,
        FloatTensor wDown) {
}
