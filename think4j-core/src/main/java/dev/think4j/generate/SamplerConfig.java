package dev.think4j.generate;

import dev.think4j.Think4jException;

/**
 * How the next token is chosen. temperature 0 is greedy; otherwise the pipeline is repetition
 * penalty, temperature, top-k, top-p, min-p, then a draw from a seeded generator.
 *
 * @param topK              0 disables
 * @param topP              1 disables
 * @param minP              0 disables
 * @param repetitionPenalty 1 disables; applied to tokens among the last {@code repeatLastN}
 */
public record SamplerConfig(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                            int repeatLastN, long seed) {

    public SamplerConfig {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new Think4jException("temperature must be >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new Think4jException("top-k must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new Think4jException("top-p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP < 1)) {
            throw new Think4jException("min-p must be in [0, 1), got " + minP);
        }
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new Think4jException("repetition penalty must be > 0, got " + repetitionPenalty);
        }
        if (repeatLastN < 0) {
            throw new Think4jException("repeat-last-n must be >= 0, got " + repeatLastN);
        }
    }

    public static SamplerConfig greedy() {
        return new SamplerConfig(0f, 0, 1f, 0f, 1f, 64, 0L);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }
}
