package dev.think4j.cli;

import dev.think4j.eval.TextFiles;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** --prompt TEXT or --text FILE: the analysis tasks' input. */
public final class PromptInput {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "prompt text")
        String prompt;

        @Option(names = "--text", paramLabel = "FILE", description = "read the prompt from a file")
        Path file;
    }

    String text() {
        if (source.prompt != null) {
            return source.prompt;
        }
        return TextFiles.readUtf8(source.file);
    }
}
