package dev.think4j.langchain4j;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.think4j.api.GenerateOptions;
import dev.think4j.api.KvConfig;
import dev.think4j.api.LocalModel;
import dev.think4j.api.Think4j;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The options both chat models' builders take: which model (a GGUF file to load, or an already loaded
 * {@link LocalModel} to share), how to load it (threads, context, KV cache compression) and the default
 * generation parameters, which a request's own parameters override.
 *
 * @param <B> the concrete builder
 */
public abstract class Think4jModelSettings<B extends Think4jModelSettings<B>> {
    private Path modelPath;
    private LocalModel model;
    private KvConfig kv;
    private String kvSpec;
    private Integer threads;
    private Integer contextLength;
    private String modelName;
    private GenerateOptions options = GenerateOptions.defaults();

    Think4jModelSettings() {
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** The GGUF file to load; the chat model then owns it and frees it on {@code close()}. */
    public B modelPath(Path path) {
        this.modelPath = Objects.requireNonNull(path, "path");
        return self();
    }

    /** An already loaded model, shared with the caller, who closes it; the load options below then do not apply. */
    public B model(LocalModel model) {
        this.model = Objects.requireNonNull(model, "model");
        return self();
    }

    /** The KV cache configuration, e.g. {@code KvConfig.builder().think(0.5).kivi(2).build()}. */
    public B kv(KvConfig kv) {
        this.kv = Objects.requireNonNull(kv, "kv");
        this.kvSpec = null;
        return self();
    }

    /** The KV cache as a {@code --kv} spec string, e.g. {@code "snapkv:512+think:0.5+kivi:2"}. */
    public B kv(String spec) {
        this.kvSpec = Objects.requireNonNull(spec, "spec");
        this.kv = null;
        return self();
    }

    /** Threads for the matrix kernels (default: the available processors). */
    public B threads(int threads) {
        this.threads = threads;
        return self();
    }

    /** The context length in tokens (default: the model's trained context). */
    public B contextLength(int tokens) {
        this.contextLength = tokens;
        return self();
    }

    /** The name responses report (default: the file name without {@code .gguf}). */
    public B modelName(String name) {
        this.modelName = Objects.requireNonNull(name, "name");
        return self();
    }

    /** Default maximum of generated tokens per response (256). */
    public B maxTokens(int maxTokens) {
        options = options.withMaxTokens(maxTokens);
        return self();
    }

    /** Default sampling temperature (0.8); 0 always takes the most likely token. */
    public B temperature(double temperature) {
        options = options.withTemperature(temperature);
        return self();
    }

    /** Default nucleus-sampling threshold (0.95). */
    public B topP(double topP) {
        options = options.withTopP(topP);
        return self();
    }

    /** Default top-k (40). */
    public B topK(int topK) {
        options = options.withTopK(topK);
        return self();
    }

    /** The sampling seed (42): equal requests give equal responses. */
    public B seed(long seed) {
        options = options.withSeed(seed);
        return self();
    }

    /** All generation defaults at once, replacing those set before. */
    public B defaultOptions(GenerateOptions options) {
        this.options = Objects.requireNonNull(options, "options");
        return self();
    }

    /** The model to use and whether the chat model owns it (and so closes it). */
    record Resolved(LocalModel model, boolean owned, String name, GenerateOptions options, ChatRequestParameters parameters) {
    }

    Resolved resolve() {
        LocalModel m = model;
        boolean owned = false;
        if (m == null) {
            if (modelPath == null) {
                throw new IllegalStateException("set modelPath(...) or model(...)");
            }
            Think4j.Builder b = Think4j.builder(modelPath);
            if (threads != null) {
                b.threads(threads);
            }
            if (contextLength != null) {
                b.contextLength(contextLength);
            }
            if (kv != null) {
                b.kv(kv);
            } else if (kvSpec != null) {
                b.kv(kvSpec);
            }
            m = b.load();
            owned = true;
        }
        String name = modelName;
        if (name == null) {
            String file = m.path().getFileName().toString();
            name = file.endsWith(".gguf") ? file.substring(0, file.length() - 5) : file;
        }
        ChatRequestParameters parameters = ChatRequestParameters.builder()
                .modelName(name)
                .maxOutputTokens(options.maxTokens())
                .temperature(options.temperature())
                .topP(options.topP())
                .topK(options.topK())
                .build();
        return new Resolved(m, owned, name, options, parameters);
    }
}
