package dev.think4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Chooses tokens from logits as configured; deterministic for a given seed. */
public final class Sampler {
    private final SamplerConfig config;
    private final SplittableRandom random;

    public Sampler(SamplerConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    /**
     * Picks the next token. {@code logits} is modified (penalty and temperature applied);
     * {@code history} holds the ids so far (prompt and output) for the repetition penalty.
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        applyRepetitionPenalty(logits, history, historyLength);
        if (config.isGreedy()) {
            return argmax(logits);
        }
        int n = logits.length;
        float[] probs = new float[n];
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = (float) Math.exp((logits[i] - max) / config.temperature());
            sum += probs[i];
        }
        for (int i = 0; i < n; i++) {
            probs[i] /= (float) sum;
        }
        int[] candidates = sortedByProbability(probs);
        int keep = candidates.length;
        if (config.topK() > 0) {
            keep = Math.min(keep, config.topK());
        }
        if (config.topP() < 1f) {
            double cum = 0;
            for (int i = 0; i < keep; i++) {
                cum += probs[candidates[i]];
                if (cum >= config.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (config.minP() > 0f) {
            float threshold = probs[candidates[0]] * config.minP();
            int k = 1;
            while (k < keep && probs[candidates[k]] >= threshold) {
                k++;
            }
            keep = k;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += probs[candidates[i]];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= probs[candidates[i]];
            if (r <= 0) {
                return candidates[i];
            }
        }
        return candidates[keep - 1];
    }

    private void applyRepetitionPenalty(float[] logits, int[] history, int length) {
        float p = config.repetitionPenalty();
        if (p == 1f || history == null) {
            return;
        }
        boolean[] seen = new boolean[logits.length];
        for (int i = Math.max(0, length - config.repeatLastN()); i < length; i++) {
            int id = history[i];
            if (id >= 0 && id < logits.length && !seen[id]) {
                seen[id] = true;
                logits[id] = logits[id] > 0 ? logits[id] / p : logits[id] * p;
            }
        }
    }

    private static int[] sortedByProbability(float[] probs) {
        // Sorting packed (probability bits, index) longs avoids boxing a vocabulary-sized array.
        long[] packed = new long[probs.length];
        for (int i = 0; i < probs.length; i++) {
            packed[i] = ((long) Float.floatToIntBits(probs[i]) << 32) | (0xFFFFFFFFL & ~i);
        }
        Arrays.sort(packed);
        int[] out = new int[probs.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = ~(int) packed[packed.length - 1 - i];
        }
        return out;
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
