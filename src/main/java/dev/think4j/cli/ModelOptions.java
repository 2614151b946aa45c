package dev.think4j.cli;

import dev.think4j.Think4jException;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import dev.think4j.tensor.Parallel;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by commands that load a model and build a KV cache. */
public final class ModelOptions {
    @Option(names = {"-m", "--model"}, paramLabel = "PATH",
            description = "GGUF model file (default: the bundled models/stories260K.gguf)")
    Path model;

    @Option(names = "--kv", paramLabel = "SPEC", defaultValue = "full",
            description = "KV cache compression, e.g. think:0.5, snapkv:512+think:0.5+kivi:2 (default: ${DEFAULT-VALUE})")
    String kv;

    @Option(names = "--ctx", paramLabel = "N", description = "context length (default: the model's)")
    Integer ctx;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "64",
            description = "prefill chunk size in tokens (default: ${DEFAULT-VALUE})")
    int chunk;

    Path modelPath() {
        return model != null ? model : DefaultModel.path();
    }

    KvPolicy policy() {
        return KvSpec.parse(kv);
    }

    void applyThreads() {
        if (threads != null) {
            if (threads < 1) {
                throw new Think4jException("--threads must be >= 1, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        if (chunk < 1) {
            throw new Think4jException("--chunk must be >= 1, got " + chunk);
        }
    }

    int contextLength(int modelContext) {
        if (ctx == null) {
            return modelContext;
        }
        if (ctx < 1) {
            throw new Think4jException("--ctx must be >= 1, got " + ctx);
        }
        return ctx;
    }
}
