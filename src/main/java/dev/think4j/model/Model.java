package dev.think4j.model;

import dev.think4j.gguf.GgufFile;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvShape;
import java.nio.file.Path;

/** A loaded model: the mapped GGUF file, its configuration and weights. Close it to unmap the file. */
public final class Model implements AutoCloseable {
    private final GgufFile gguf;
    private final ModelConfig config;
    private final Weights weights;

    private Model(GgufFile gguf, ModelConfig config, Weights weights) {
        this.gguf = gguf;
        this.config = config;
        this.weights = weights;
    }

    public static Model load(Path path) {
        GgufFile gguf = GgufFile.open(path);
        try {
            int vocab = gguf.has("tokenizer.ggml.tokens") ? gguf.getStringArray("tokenizer.ggml.tokens").length
                    : (int) (gguf.tensor("token_embd.weight") != null ? gguf.tensor("token_embd.weight").shape()[1] : 0);
            ModelConfig config = ModelConfig.fromGguf(gguf, vocab);
            return new Model(gguf, config, Weights.load(gguf, config));
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    public GgufFile gguf() {
        return gguf;
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    public KvShape kvShape() {
        return new KvShape(config.layers(), config.heads(), config.kvHeads(), config.headDim());
    }

    public CompressedKvCache newCache(KvPolicy policy) {
        return new CompressedKvCache(kvShape(), policy);
    }

    /** A forward pass with its own activation buffers (one per concurrent sequence). */
    public Transformer newTransformer(int chunkSize) {
        return new Transformer(config, weights, chunkSize);
    }

    @Override
    public void close() {
        gguf.close();
    }
}
