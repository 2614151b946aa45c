package dev.think4j.cli;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgmlType;
import dev.think4j.model.ModelShape;
import dev.think4j.model.SyntheticModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** think4j synth: a random-weight GGUF of a real model's shape, for benchmarks and tests. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a random-weight GGUF of a real model's shape (shapes: llama-3.2-1b, llama-3.2-3b, llama-3-8b, mini-hd64, "
                + "mistral-7b, qwen2.5-0.5b, qwen3-0.6b, tiny, tiny-qwen2, tiny-qwen3).")
public final class SynthCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "NAME", description = "model shape")
    String shape;

    @Option(names = "--type", defaultValue = "Q8_0", paramLabel = "TYPE",
            description = "weight type: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS "
                    + "(default: ${DEFAULT-VALUE}; simple quantizers, not llama.cpp's: use llama-quantize for llama.cpp-identical files)")
    String type;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "output GGUF file")
    Path out;

    @Option(names = "--vocab", paramLabel = "FILE",
            description = "borrow the tokenizer of this GGUF (e.g. ../shared/tokenizers/ggml-vocab-llama-bpe.gguf): every tokenizer.* key "
                    + "is copied, so the file tokenizes like the real model (default: the bundled stories260K vocabulary, padded)")
    Path vocab;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        ModelShape s = ModelShape.named(shape);
        GgmlType t;
        try {
            t = GgmlType.valueOf(type.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Think4jException("unknown type '" + type + "' (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)");
        }
        if (out.getParent() != null && !Files.isDirectory(out.getParent())) {
            throw new Think4jException("output directory does not exist: " + out.getParent());
        }
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        SyntheticModel.write(s, t, out, seed, vocab != null ? vocab : DefaultModel.path(), msg -> {
            err.println(msg);
            err.flush();
        });
        err.printf(Locale.ROOT, "done in %.1f s: %s%n", (System.nanoTime() - t0) / 1e9, out);
        err.flush();
        return 0;
    }
}
