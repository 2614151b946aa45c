package dev.think4j.generate;

import dev.think4j.Think4jException;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The log-probability of one generated token and the K most likely tokens at its position.
 *
 * <p>The distribution is the log-softmax of the model's raw logits: temperature 1, before the
 * repetition penalty, top-k, top-p, min-p and any masking of end-of-generation tokens. That is what
 * OpenAI's {@code logprobs} report and what llama.cpp's server returns for {@code n_probs} (its default
 * {@code post_sampling_probs: false} path takes the softmax of {@code llama_get_logits_ith}), so the
 * figures do not depend on how the token was sampled and greedy decoding's token is always the top one
 * (up to ties).
 *
 * @param id          the chosen token
 * @param logprob     its natural-log probability
 * @param topIds      the K most likely tokens, most likely first; equal logits in ascending id order
 * @param topLogprobs their log-probabilities, same order
 */
public record TokenLogprobs(int id, double logprob, int[] topIds, double[] topLogprobs) {
    /** As OpenAI's top_logprobs: more alternatives than this are refused. */
    public static final int MAX_TOP = 20;
    private static final VectorSpecies<Double> EXP = DoubleVector.SPECIES_PREFERRED;
    /** Floats that widen to one {@link #EXP} vector of doubles. */
    private static final VectorSpecies<Float> WIDEN = VectorSpecies.of(float.class,
            jdk.incubator.vector.VectorShape.forBitSize(EXP.vectorBitSize() / 2));

    public TokenLogprobs {
        if (topIds.length != topLogprobs.length) {
            throw new IllegalArgumentException("topIds and topLogprobs differ in length");
        }
    }

    /** Fails with a user-facing message unless {@code k} is in 0..{@link #MAX_TOP}; {@code what} names the option. */
    public static int checkTop(int k, String what) {
        if (k < 0 || k > MAX_TOP) {
            throw new Think4jException(what + " must be in 0.." + MAX_TOP + ", got " + k);
        }
        return k;
    }

    /**
     * log(sum_i exp(logits[from + i])) over {@code n} entries, in double, with the maximum subtracted
     * first so that no exponential overflows and the largest term is exactly 1.
     */
    public static double logSumExp(float[] logits, int from, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("no logits");
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = from; i < from + n; i++) {
            max = Math.max(max, logits[i]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        // double exponentials in vector lanes: 5x the scalar loop over a 152K vocabulary, same sums to 1e-16
        DoubleVector acc = DoubleVector.zero(EXP);
        int i = from;
        for (int end = from + EXP.loopBound(n); i < end; i += EXP.length()) {
            DoubleVector x = (DoubleVector) FloatVector.fromArray(WIDEN, logits, i).convertShape(VectorOperators.F2D, EXP, 0);
            acc = acc.add(x.sub(max).lanewise(VectorOperators.EXP));
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < from + n; i++) {
            sum += Math.exp(logits[i] - max);
        }
        return max + Math.log(sum);
    }

    /**
     * The log-probabilities at one position: {@code chosen}'s and the top {@code k}, from the
     * {@code n} raw logits starting at {@code from}.
     */
    public static TokenLogprobs of(float[] logits, int from, int n, int chosen, int k) {
        double logZ = logSumExp(logits, from, n);
        int[] top = topK(logits, from, n, Math.min(k, n));
        double[] topLp = new double[top.length];
        for (int i = 0; i < top.length; i++) {
            topLp[i] = logits[from + top[i]] - logZ;
        }
        return new TokenLogprobs(chosen, logits[from + chosen] - logZ, top, topLp);
    }

    /**
     * Indices (relative to {@code from}) of the {@code k} largest logits, largest first. The scan
     * goes by ascending id and only a strictly larger logit displaces a kept one, so equal logits
     * keep ascending id order: the same ties give the same list on every run and every thread count.
     */
    static int[] topK(float[] logits, int from, int n, int k) {
        int[] ids = new int[k];
        if (k == 0) {
            return ids;
        }
        float[] vals = new float[k];
        int size = 0;
        for (int i = 0; i < n; i++) {
            float v = logits[from + i];
            if (size == k && !(v > vals[k - 1])) {
                continue;
            }
            int at = size < k ? size++ : k - 1;
            while (at > 0 && v > vals[at - 1]) {
                ids[at] = ids[at - 1];
                vals[at] = vals[at - 1];
                at--;
            }
            ids[at] = i;
            vals[at] = v;
        }
        return ids;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenLogprobs t && t.id == id && Double.compare(t.logprob, logprob) == 0
                && Arrays.equals(t.topIds, topIds) && Arrays.equals(t.topLogprobs, topLogprobs);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Integer.hashCode(id) + Double.hashCode(logprob)) + Arrays.hashCode(topIds);
    }

    @Override
    public String toString() {
        return "TokenLogprobs[id=" + id + ", logprob=" + logprob + ", top=" + Arrays.toString(topIds) + " "
                + Arrays.toString(topLogprobs) + "]";
    }
}
