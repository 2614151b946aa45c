package dev.think4j.cli;

import dev.think4j.Think4jException;
import dev.think4j.model.Model;
import dev.think4j.tensor.Parallel;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command that runs a model shares: which model, context, threads, prefill chunk. */
abstract class EngineOptions {
    @Option(names = {"-m", "--model"}, paramLabel = "PATH",
            description = "GGUF model file (default: the bundled models/stories260K.gguf)")
    Path model;

    @Option(names = "--ctx", paramLabel = "N", description = "context length (default: the model's)")
    Integer ctx;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "64",
            description = "prefill chunk size in tokens (default: ${DEFAULT-VALUE})")
    int chunk;

    @Option(names = "--check-tensors", description = "at load, scan every weight for NaN or infinite values and name "
            + "the first bad tensor (reads the whole file; as llama.cpp's --check-tensors)")
    boolean checkTensors;

    Path modelPath() {
        return model != null ? model : DefaultModel.path();
    }

    Model loadModel() {
        return Model.load(modelPath(), checkTensors);
    }

    /** Validates --threads and --chunk and sizes the worker pool. */
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

    /** --ctx when given (a prompt token plus one generated token at least), else the model's. */
    int contextLength(int modelContext) {
        if (ctx == null) {
            return modelContext;
        }
        if (ctx < 2) {
            throw new Think4jException("--ctx must be >= 2, got " + ctx);
        }
        return ctx;
    }

    /** As {@link #contextLength(int)}, warning on {@code err} when --ctx exceeds the trained context. */
    int contextLength(dev.think4j.model.ModelConfig config, java.io.PrintWriter err) {
        int n = contextLength(config.contextLength());
        Notes.contextBeyondTraining(err, n, config.contextLength(), config.architecture());
        return n;
    }
}
