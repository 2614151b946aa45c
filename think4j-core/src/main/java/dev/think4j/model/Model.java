package dev.think4j.model;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufTensorInfo;
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
        return load(path, false);
    }

    /**
     * Loads and validates a model file. With {@code checkTensors} every weight is also scanned for
     * NaN and infinite values (as llama.cpp's --check-tensors), which reads the whole file.
     */
    public static Model load(Path path, boolean checkTensors) {
        GgufFile gguf = GgufFile.open(path, residentWeights(path));
        try {
            if (gguf.tensors().isEmpty()) {
                throw new Think4jException(path + " has no weights (no tensors): a vocabulary-only GGUF can serve "
                        + "as a tokenizer, not as a model");
            }
            ModelConfig config = ModelConfig.fromGguf(gguf, vocabSize(gguf));
            Weights weights = Weights.load(gguf, config);
            if (checkTensors) {
                TensorCheck.requireFinite(gguf);
            }
            return new Model(gguf, config, weights);
        } catch (RuntimeException | Error e) {
            gguf.close();
            throw e;
        }
    }

    /**
     * Files of 64 MiB and more are read into huge-page memory rather than mapped (decode streams
     * every weight per token, see gguf.ResidentCopy); {@code -Dthink4j.mmap=true} keeps the mapping.
     */
    private static boolean residentWeights(Path path) {
        if (Boolean.getBoolean("think4j.mmap")) {
            return false;
        }
        try {
            return java.nio.file.Files.size(path) >= (64L << 20);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The tokenizer's vocabulary size, which the embedding and output matrices must match. */
    private static int vocabSize(GgufFile gguf) {
        GgufTensorInfo embedding = gguf.tensor("token_embd.weight");
        if (embedding == null) {
            throw new Think4jException(gguf.path() + ": missing tensor 'token_embd.weight'");
        }
        long rows = embedding.elementCount() / embedding.shape()[0];
        if (!gguf.has("tokenizer.ggml.tokens")) {
            if (rows > Integer.MAX_VALUE) {
                throw new Think4jException(gguf.path() + ": token_embd.weight has " + rows + " rows, too many for a vocabulary");
            }
            return (int) rows;
        }
        int vocab = gguf.getStringArray("tokenizer.ggml.tokens").length;
        if (rows != vocab) {
            throw new Think4jException(gguf.path() + ": the vocabulary has " + vocab + " tokens but token_embd.weight has "
                    + rows + " rows " + java.util.Arrays.toString(embedding.shape()));
        }
        return vocab;
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
