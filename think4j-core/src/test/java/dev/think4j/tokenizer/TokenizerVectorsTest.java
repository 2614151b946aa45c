package dev.think4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import dev.think4j.gguf.GgufFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reference engine's tokenizer test vectors: every text of X.gguf.inp must encode (no BOS)
 * to exactly the ids on its line of X.gguf.out.
 */
class TokenizerVectorsTest {
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    static List<String> texts(Path inp) throws IOException {
        String all = Files.readString(inp, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>(Arrays.asList(all.split(java.util.regex.Pattern.quote(SEPARATOR), -1)));
        // the file ends with a separator, leaving one empty trailing piece
        if (!out.isEmpty() && out.getLast().isEmpty()) {
            out.removeLast();
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"ggml-vocab-llama-spm", "ggml-vocab-phi-3", "ggml-vocab-gpt-2", "ggml-vocab-deepseek-llm", "ggml-vocab-llama-bpe",
        "ggml-vocab-qwen2"})
    void encodesEveryTestTextExactly(String name) throws IOException {
        Path gguf = SharedFixtures.require("tokenizers/" + name + ".gguf");
        List<String> texts = texts(gguf.resolveSibling(name + ".gguf.inp"));
        List<String> expected = Files.readAllLines(gguf.resolveSibling(name + ".gguf.out"), StandardCharsets.UTF_8);
        assertThat(texts).hasSameSizeAs(expected);
        try (GgufFile file = GgufFile.open(gguf)) {
            Tokenizer tok = Tokenizer.fromGguf(file);
            List<String> mismatches = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                String got = Arrays.stream(tok.encode(texts.get(i), false, false)).mapToObj(Integer::toString)
                        .collect(Collectors.joining(" "));
                if (!got.equals(expected.get(i).strip())) {
                    mismatches.add("text " + i + " " + escape(texts.get(i)) + "\n  expected " + expected.get(i).strip() + "\n  got      " + got);
                }
            }
            assertThat(mismatches).as(name).isEmpty();
        }
    }

    static String escape(String s) {
        return "'" + s.replace("\n", "\\n").replace("\t", "\\t") + "'";
    }
}
