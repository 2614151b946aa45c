package dev.think4j.api;

import dev.think4j.Think4jException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Loads models. {@code Think4j.load(path)} uses the defaults (the model's context length, a dense KV
 * cache, all cores); {@link #builder(Path)} sets options first:
 *
 * <pre>{@code
 * LocalModel model = Think4j.builder(Path.of("model.gguf"))
 *         .kv(KvConfig.builder().think(0.5).kivi(2).build())   // or .kv("think:0.5+kivi:2")
 *         .contextLength(4096)
 *         .threads(4)
 *         .load();
 * }</pre>
 */
public final class Think4j {
    private Think4j() {
    }

    /**
     * Loads a GGUF model with the default options.
     *
     * @throws Think4jException when the file cannot be read, is not a valid GGUF model, or uses an
     *                          unsupported architecture, tokenizer or weight type (the message says which)
     */
    public static LocalModel load(Path model) {
        return builder(model).load();
    }

    /** Options for loading {@code model}; nothing is read until {@link Builder#load()}. */
    public static Builder builder(Path model) {
        return new Builder(Objects.requireNonNull(model, "model"));
    }

    /** Load options. Not thread-safe; each {@link #load()} gives an independent model. */
    public static final class Builder {
        private final Path path;
        private Integer threads;
        private Integer contextLength;
        private KvConfig kv = KvConfig.full();
        private boolean checkTensors;
        private int prefillChunk = 64;

        private Builder(Path path) {
            this.path = path;
        }

        /**
         * Worker threads for the matrix products (default: all cores). The worker team is shared by the
         * whole process, so this sets it for every model loaded in it.
         */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** Tokens a conversation may hold, prompt and output together (default: the model's trained context). */
        public Builder contextLength(int tokens) {
            if (tokens < 2) {
                throw new IllegalArgumentException("context length must be >= 2, got " + tokens);
            }
            this.contextLength = tokens;
            return this;
        }

        /** KV cache compression for every generation and chat session of the model (default: {@link KvConfig#full()}). */
        public Builder kv(KvConfig kv) {
            this.kv = Objects.requireNonNull(kv, "kv");
            return this;
        }

        /**
         * KV cache compression as a {@code --kv} spec string, e.g. {@code "think:0.5+kivi:2"}.
         *
         * @throws IllegalArgumentException when the spec is not valid
         */
        public Builder kv(String spec) {
            return kv(KvConfig.parse(spec));
        }

        /** Scan every weight for NaN and infinities at load (reads the whole file; default off). */
        public Builder checkTensors(boolean check) {
            this.checkTensors = check;
            return this;
        }

        /** Prompt tokens per forward pass during prefill (default 64, as the command line). */
        public Builder prefillChunk(int tokens) {
            if (tokens < 1) {
                throw new IllegalArgumentException("prefill chunk must be >= 1, got " + tokens);
            }
            this.prefillChunk = tokens;
            return this;
        }

        /**
         * Reads and validates the model.
         *
         * @throws Think4jException when the file is missing, invalid or unsupported
         */
        public LocalModel load() {
            if (threads != null) {
                dev.think4j.tensor.Parallel.setThreads(threads);
            }
            return LocalModel.open(path, contextLength, kv, checkTensors, prefillChunk);
        }
    }
}
