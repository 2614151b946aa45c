package dev.think4j.api;

import dev.think4j.Think4jException;
import dev.think4j.generate.SamplerConfig;
import dev.think4j.generate.TokenLogprobs;
import java.util.List;

/**
 * How to generate: token limit, sampling and stop strings. Immutable; every {@code with...} method
 * returns a changed copy, so one instance can be shared by threads and reused.
 *
 * <p>{@link #defaults()} samples as {@code think4j generate} does (temperature 0.8, top-k 40, top-p 0.95,
 * min-p 0.05, seed 42, 256 tokens); {@link #greedy()} always takes the most likely token, which makes
 * the output the same as {@code think4j generate --temperature 0}. Sampling applies, in order, the
 * repetition penalty, temperature, top-k, top-p and min-p, then a draw from a generator seeded with
 * {@link #seed()}, so equal options give equal output.
 */
public final class GenerateOptions {
    private static final GenerateOptions DEFAULTS = new GenerateOptions(256, 0.8f, 40, 0.95f, 0.05f, 1f, 64, 42L, List.of(), -1);

    private final int maxTokens;
    private final float temperature;
    private final int topK;
    private final float topP;
    private final float minP;
    private final float repeatPenalty;
    private final int repeatLastN;
    private final long seed;
    private final List<String> stopStrings;
    private final int logprobs;

    private GenerateOptions(int maxTokens, float temperature, int topK, float topP, float minP, float repeatPenalty,
                            int repeatLastN, long seed, List<String> stopStrings, int logprobs) {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        }
        for (String s : stopStrings) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must be non-empty");
            }
        }
        this.maxTokens = maxTokens;
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.minP = minP;
        this.repeatPenalty = repeatPenalty;
        this.repeatLastN = repeatLastN;
        this.seed = seed;
        this.stopStrings = List.copyOf(stopStrings);
        if (logprobs < -1 || logprobs > TokenLogprobs.MAX_TOP) {
            throw new IllegalArgumentException("logprobs must be in 0.." + TokenLogprobs.MAX_TOP + " (or -1 for none), got " + logprobs);
        }
        this.logprobs = logprobs;
        try {
            sampler();
        } catch (Think4jException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The command line's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, seed 42, at most 256 tokens. */
    public static GenerateOptions defaults() {
        return DEFAULTS;
    }

    /** Greedy decoding (temperature 0), at most 256 tokens. */
    public static GenerateOptions greedy() {
        return DEFAULTS.withTemperature(0);
    }

    /** At most this many generated tokens (0 only prefills the prompt). */
    public GenerateOptions withMaxTokens(int maxTokens) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, stopStrings, logprobs);
    }

    /** Sampling temperature, >= 0; 0 is greedy. */
    public GenerateOptions withTemperature(double temperature) {
        return new GenerateOptions(maxTokens, (float) temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, stopStrings, logprobs);
    }

    /** Keep only the K most likely tokens; 0 disables. */
    public GenerateOptions withTopK(int topK) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, stopStrings, logprobs);
    }

    /** Nucleus sampling threshold in (0, 1]; 1 disables. */
    public GenerateOptions withTopP(double topP) {
        return new GenerateOptions(maxTokens, temperature, topK, (float) topP, minP, repeatPenalty, repeatLastN, seed, stopStrings, logprobs);
    }

    /** Drop tokens less likely than this fraction of the most likely one, in [0, 1); 0 disables. */
    public GenerateOptions withMinP(double minP) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, (float) minP, repeatPenalty, repeatLastN, seed, stopStrings, logprobs);
    }

    /** Repetition penalty (> 0; 1 disables) over the last {@code lastN} tokens. */
    public GenerateOptions withRepeatPenalty(double penalty, int lastN) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, (float) penalty, lastN, seed, stopStrings, logprobs);
    }

    /** The sampling seed. */
    public GenerateOptions withSeed(long seed) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, stopStrings, logprobs);
    }

    /** End generation where any of these strings appears; the text ends before it. Replaces earlier stop strings. */
    public GenerateOptions withStopStrings(String... stops) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, List.of(stops), logprobs);
    }

    /**
     * Report each generated token's log-probability and the {@code top} (0..20) most likely tokens at
     * its position in {@link Generation#logprobs()}; -1 (the default) reports none. Never changes which
     * tokens are generated.
     */
    public GenerateOptions withLogprobs(int top) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, stopStrings, top);
    }

    /** Alternatives reported per token, or -1 when log-probs are off. */
    public int logprobs() {
        return logprobs;
    }

    /** At most this many generated tokens. */
    public int maxTokens() {
        return maxTokens;
    }

    /** Sampling temperature; 0 is greedy. */
    public double temperature() {
        return temperature;
    }

    /** The top-k cut; 0 disables it. */
    public int topK() {
        return topK;
    }

    /** The top-p cut; 1 disables it. */
    public double topP() {
        return topP;
    }

    /** The min-p cut; 0 disables it. */
    public double minP() {
        return minP;
    }

    /** The repetition penalty; 1 disables it. */
    public double repeatPenalty() {
        return repeatPenalty;
    }

    /** How many recent tokens the repetition penalty looks at. */
    public int repeatLastN() {
        return repeatLastN;
    }

    /** The sampling seed. */
    public long seed() {
        return seed;
    }

    /** Stop strings (unmodifiable). */
    public List<String> stopStrings() {
        return stopStrings;
    }

    SamplerConfig sampler() {
        return new SamplerConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed);
    }

    @Override
    public String toString() {
        return "GenerateOptions[maxTokens=" + maxTokens + ", temperature=" + temperature + ", topK=" + topK + ", topP=" + topP
                + ", minP=" + minP + ", repeatPenalty=" + repeatPenalty + "/" + repeatLastN + ", seed=" + seed
                + ", stop=" + stopStrings + (logprobs >= 0 ? ", logprobs=" + logprobs : "") + "]";
    }
}
