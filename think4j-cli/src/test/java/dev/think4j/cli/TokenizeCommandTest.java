package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.SharedFixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** think4j tokenize on the bundled model and on the vocabulary-only GGUF files in ../shared/tokenizers. */
class TokenizeCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static List<Integer> ids(JsonNode n) {
        List<Integer> out = new ArrayList<>();
        n.get("ids").forEach(x -> out.add(x.asInt()));
        return out;
    }

    static List<String> pieces(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.get("pieces").forEach(x -> out.add(x.asText()));
        return out;
    }

    @Test
    void bundledModelTableAndJson() throws Exception {
        CliRunner t = CliRunner.run("tokenize", "--text", "Once upon a time");
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(t.out().lines().toList()).containsExactly("1\t<s>", "403\t Once", "407\t upon", "261\t a", "378\t time");
        CliRunner j = CliRunner.run("tokenize", "--text", "Once upon a time", "--no-bos", "--json");
        assertThat(j.exitCode()).as(j.err()).isZero();
        JsonNode n = JSON.readTree(j.lastLine());
        assertThat(ids(n)).containsExactly(403, 407, 261, 378);
        assertThat(pieces(n)).containsExactly(" Once", " upon", " a", " time");
    }

    @Test
    void fileContentIsTokenizedWholeWithEscapedPieces() throws Exception {
        Path f = dir.resolve("prompt.txt");
        Files.writeString(f, "Once\tupon\n", StandardCharsets.UTF_8);
        CliRunner r = CliRunner.run("tokenize", "--file", f.toString(), "--no-bos");
        assertThat(r.exitCode()).as(r.err()).isZero();
        // the tab and the final newline are tokens of their own, shown escaped on one line each
        assertThat(r.out().lines().map(l -> l.substring(l.indexOf('\t') + 1)).toList()).contains("\\t", "\\n");
        assertThat(r.out().lines().allMatch(l -> l.matches("\\d+\t.*"))).isTrue();
    }

    @Test
    void userErrorsAreOneLine() {
        for (String[] args : List.of(new String[] {"tokenize"}, new String[] {"tokenize", "--text", "a", "--file", "b"},
                new String[] {"tokenize", "--model", dir.resolve("missing.gguf").toString(), "--text", "a"},
                new String[] {"tokenize", "--file", dir.resolve("missing.txt").toString()})) {
            CliRunner r = CliRunner.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(Main.EXIT_USER_ERROR);
            assertThat(r.err()).startsWith("error: ").doesNotContain("Exception");
            assertThat(r.err().strip().lines().count()).isEqualTo(1);
            assertThat(r.out()).isEmpty();
        }
    }

    /** Reference ids from llama.cpp's llama-tokenize on the same vocabulary-only files. */
    @Test
    void vocabularyOnlyFilesWithAndWithoutSpecialParsing() throws Exception {
        Path llama = SharedFixtures.require("tokenizers/ggml-vocab-llama-bpe.gguf");
        Path qwen = SharedFixtures.require("tokenizers/ggml-vocab-qwen2.gguf");
        JsonNode parsed = JSON.readTree(CliRunner.run("tokenize", "-m", llama.toString(), "--text", "Hello <|eot_id|> 🦙",
                "--parse-special", "--json").lastLine());
        assertThat(ids(parsed)).containsExactly(128000, 9906, 220, 128009, 11410, 99, 247);
        // the llama's four bytes span three tokens: the partial ones are shown byte by byte
        assertThat(pieces(parsed)).containsExactly("<|begin_of_text|>", "Hello", " ", "<|eot_id|>", " \\xF0\\x9F", "\\xA6", "\\x99");
        JsonNode plain = JSON.readTree(CliRunner.run("tokenize", "-m", llama.toString(), "--text", "<|eot_id|>x", "--no-bos",
                "--json").lastLine());
        assertThat(ids(plain)).containsExactly(27, 91, 68, 354, 851, 91, 29, 87);
        // Qwen adds no BOS, and its user-defined <think> is a token even without --parse-special
        JsonNode think = JSON.readTree(CliRunner.run("tokenize", "-m", qwen.toString(), "--text", "<think>hi</think>", "--json").lastLine());
        assertThat(ids(think)).containsExactly(151667, 6023, 151668);
        CliRunner table = CliRunner.run("tokenize", "-m", qwen.toString(), "--text", "<|im_start|>user\n", "--parse-special");
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out().lines().toList()).containsExactly("151644\t<|im_start|>", "872\tuser", "198\t\\n");
    }
}
