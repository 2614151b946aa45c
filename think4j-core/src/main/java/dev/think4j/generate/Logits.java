package dev.think4j.generate;

import dev.think4j.Think4jException;

/** Checks on the model's output before anything is sampled from it. */
public final class Logits {
    private Logits() {
    }

    /**
     * Fails when any of {@code logits[from .. from+n)} is NaN or infinite: the sampler would pick an
     * arbitrary token from them and generation would go on silently producing garbage.
     * {@code position} is the index in the sequence of the token these logits predict.
     */
    public static void requireFinite(float[] logits, int from, int n, int position) {
        for (int i = from; i < from + n; i++) {
            if (!Float.isFinite(logits[i])) {
                throw new Think4jException("the model produced non-finite logits at token " + position
                        + " (" + logits[i] + " for token id " + (i - from) + "; NaN in the weights? try --check-tensors)");
            }
        }
    }
}
