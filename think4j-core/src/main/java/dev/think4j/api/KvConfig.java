package dev.think4j.api;

import dev.think4j.Think4jException;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;

/**
 * How the KV cache is compressed: at most one eviction method (which tokens to keep), one channel
 * pruning method (ThinK: which key channels to keep) and one quantization, applied in that order.
 * The same choice as the command line's {@code --kv} spec strings, either typed
 * ({@code KvConfig.builder().think(0.5).kivi(2).build()}) or parsed ({@code KvConfig.parse("think:0.5+kivi:2")});
 * both give the same canonical {@link #spec()}.
 *
 * <p>Immutable and thread-safe.
 */
public final class KvConfig {
    private static final KvConfig FULL = new KvConfig("full");

    private final String spec;

    private KvConfig(String spec) {
        this.spec = spec;
    }

    /** A dense float32 cache, nothing compressed. */
    public static KvConfig full() {
        return FULL;
    }

    /**
     * Parses a {@code --kv} spec string such as {@code "snapkv:512+think:0.5+kivi:2"} (see the README's
     * table of terms).
     *
     * @throws IllegalArgumentException when the spec is not valid, with the parser's explanation
     */
    public static KvConfig parse(String spec) {
        try {
            return new KvConfig(KvSpec.parse(spec).spec());
        } catch (Think4jException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** A builder for a typed configuration. */
    public static Builder builder() {
        return new Builder();
    }

    /** The canonical spec string, as {@code --kv} and the server's {@code "kv"} field take it. */
    public String spec() {
        return spec;
    }

    /** A fresh policy: presses may keep per-cache state, so each cache gets its own. */
    KvPolicy policy() {
        return KvSpec.parse(spec);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KvConfig k && k.spec.equals(spec);
    }

    @Override
    public int hashCode() {
        return spec.hashCode();
    }

    @Override
    public String toString() {
        return spec;
    }

    /**
     * Builds a {@link KvConfig} one stage at a time. Setting a stage twice replaces the first choice.
     * Not thread-safe (use one builder per thread).
     */
    public static final class Builder {
        private String eviction;
        private String pruning;
        private String quantization;

        private Builder() {
        }

        /** SnapKV: keep {@code budget} tokens per KV head, chosen by the last queries' pooled attention. */
        public Builder snapKv(int budget) {
            eviction = "snapkv:" + budget;
            return this;
        }

        /** PyramidKV: SnapKV with budgets shrinking with depth (same total). */
        public Builder pyramidKv(int budget) {
            eviction = "pyramidkv:" + budget;
            return this;
        }

        /** H2O: heavy hitters by accumulated attention plus recent tokens, evicting during decode. */
        public Builder h2o(int budget) {
            eviction = "h2o:" + budget;
            return this;
        }

        /** StreamingLLM: {@code sinks} first tokens plus a recent {@code window}: bounded memory for unbounded generation. */
        public Builder streamingLlm(int sinks, int window) {
            eviction = "streamingllm:" + sinks + "," + window;
            return this;
        }

        /** ThinK: prune the fraction {@code lambda} of key channels (in [0, 1)), chosen by the window queries. */
        public Builder think(double lambda) {
            pruning = "think:" + number(lambda);
            return this;
        }

        /** ThinK with separate key and value channel pruning ratios. */
        public Builder think(double keyRatio, double valueRatio) {
            pruning = "think:k=" + number(keyRatio) + ",v=" + number(valueRatio);
            return this;
        }

        /** The query-agnostic baseline: key channels ranked by key norm alone. */
        public Builder keyNorm(double lambda) {
            pruning = "keynorm:" + number(lambda);
            return this;
        }

        /** KIVI 2- or 4-bit quantization (keys per channel, values per token, recent tokens in full precision). */
        public Builder kivi(int bits) {
            quantization = "kivi:" + bits;
            return this;
        }

        /** llama.cpp-style 8-bit block quantization of every cached token. */
        public Builder q8_0() {
            quantization = "q8_0";
            return this;
        }

        /** llama.cpp-style 4-bit block quantization of every cached token. */
        public Builder q4_0() {
            quantization = "q4_0";
            return this;
        }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException when a value is out of range or the stages do not combine
         */
        public KvConfig build() {
            StringBuilder sb = new StringBuilder();
            for (String term : new String[] {eviction, pruning, quantization}) {
                if (term != null) {
                    sb.append(sb.isEmpty() ? "" : "+").append(term);
                }
            }
            return sb.isEmpty() ? FULL : parse(sb.toString());
        }

        private static String number(double v) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("ratio must be finite, got " + v);
            }
            return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
        }
    }
}
