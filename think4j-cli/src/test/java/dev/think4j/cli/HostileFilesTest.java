package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.GgufImage;
import dev.think4j.SharedFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every hand-made hostile file ({@link HostileFiles}) given to {@code generate} ends with exit
 * status 2 and exactly one {@code error:} line naming the problem: no stack trace, no "internal
 * error", no run to exit 0 on NaN.
 */
class HostileFilesTest {
    private static final GgufImage SEED = GgufImage.read(SharedFixtures.bundledModel());

    @TempDir
    Path dir;

    static List<HostileFiles.Case> cases() {
        return HostileFiles.cases();
    }

    static void assertCleanRejection(CliRunner r, String expected) {
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.err()).isEqualTo(Main.EXIT_USER_ERROR);
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception").doesNotContain("internal error");
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines).as("stderr").hasSize(1);
        assertThat(lines.getFirst()).startsWith("error: ").contains(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isRejectedWithOneClearLine(HostileFiles.Case c) throws IOException {
        Path p = dir.resolve("hostile.gguf");
        Files.write(p, c.build(SEED));
        List<String> args = new ArrayList<>(List.of("generate", "--model", p.toString(), "--max-tokens", "4",
                "--temperature", "0", "--json"));
        if (c.checkTensors()) {
            args.add("--check-tensors");
        }
        args.add(HostileFiles.prompt(c));
        assertCleanRejection(CliRunner.run(args.toArray(String[]::new)), c.expected());
    }

    /** The cases break one thing each: without the edit, the same pipeline runs normally. */
    @Test
    void theUneditedImageRuns() throws IOException {
        Path p = dir.resolve("same.gguf");
        Files.write(p, SEED.copy().build());
        CliRunner r = CliRunner.run("generate", "--model", p.toString(), "--max-tokens", "4", "--temperature", "0",
                "--check-tensors", "--json", "Once upon a time \u03c8");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.lastLine()).contains("\"generated_tokens\":4");
    }

    /** Valid variations the checks must not reject: other alignments and integer widths, a 64-bit alignment. */
    @Test
    void validVariationsStillLoad() throws IOException {
        List<GgufImage> ok = new ArrayList<>();
        GgufImage a64 = SEED.copy().putU32("general.alignment", 64);
        a64.alignment = 64;
        ok.add(a64);
        GgufImage a8 = SEED.copy().put("general.alignment", GgufImage.UINT64, GgufImage.u64(8));
        a8.alignment = 8;
        ok.add(a8);
        ok.add(SEED.copy().put("llama.block_count", GgufImage.UINT64, GgufImage.u64(5)));
        ok.add(SEED.copy().put("llama.attention.layer_norm_rms_epsilon", GgufImage.FLOAT64, GgufImage.f64(1e-5)));
        ok.add(SEED.copy().putString("llama.rope.scaling.type", "linear").putF32("llama.rope.scaling.factor", 2f));
        ok.add(SEED.copy().putF32("llama.rope.freq_base", 500000f));
        ok.add(SEED.copy().putU32("llama.rope.dimension_count", 4));
        ok.add(SEED.copy().put("hostile.nest", GgufImage.ARRAY, HostileFiles.nested(7)));
        for (int i = 0; i < ok.size(); i++) {
            Path p = dir.resolve("ok" + i + ".gguf");
            Files.write(p, ok.get(i).build());
            CliRunner r = CliRunner.run("generate", "--model", p.toString(), "--max-tokens", "2", "--temperature", "0",
                    "Once upon a time");
            assertThat(r.exitCode()).as("variation %d: %s", i, r.err()).isZero();
        }
    }

    /** --check-tensors is a model option of every command that loads one, not only of generate. */
    @Test
    void checkTensorsReachesTheOtherCommands() throws IOException {
        Path p = dir.resolve("nan.gguf");
        Files.write(p, HostileFiles.poison(SEED.copy(), "blk.4.ffn_up.weight", 7, Float.NaN).build());
        Path text = Files.writeString(dir.resolve("docs.txt"), "Once upon a time there was a cat.");
        String expected = "tensor 'blk.4.ffn_up.weight' holds a non-finite value (NaN) at element 7";
        String m = p.toString();
        assertCleanRejection(CliRunner.run("bench", "-m", m, "-p", "4", "-n", "2", "-r", "1", "--check-tensors"), expected);
        assertCleanRejection(CliRunner.run("eval", "ppl", "--model", m, "--text", text.toString(), "--check-tensors"), expected);
        assertCleanRejection(CliRunner.run("eval", "sweep", "--model", m, "--text", text.toString(), "--methods", "none",
                "--out", dir.resolve("sweep").toString(), "--check-tensors"), expected);
        assertCleanRejection(CliRunner.run("channels", "--model", m, "--prompt", "Once", "--kv", "think:0.5", "--check-tensors"), expected);
        assertCleanRejection(CliRunner.run("serve", "--model", m, "--port", "0", "--check-tensors"), expected);
        // chat reads its turns from stdin; the model is loaded (and checked) before the first one
        assertCleanRejection(CliRunner.run("chat", "--model", m, "--check-tensors"), expected);
    }

    /** The tokenizer-only files of ../shared say they have no weights instead of naming a missing tensor. */
    @Test
    void vocabularyOnlyFileHasNoWeights() {
        Path vocab = SharedFixtures.require("tokenizers/ggml-vocab-llama-bpe.gguf");
        assertCleanRejection(CliRunner.run("generate", "--model", vocab.toString(), "hi"), "has no weights");
    }

    @Test
    void unsupportedArchitectureIsNamedWithTheSupportedOnes() {
        Path phi = SharedFixtures.require("tokenizers/ggml-vocab-phi-3.gguf");
        // a vocabulary-only file is reported as such first; inspect reads only the metadata
        CliRunner r = CliRunner.run("inspect", "--model", phi.toString());
        assertCleanRejection(r, "unsupported architecture 'phi3'");
        assertThat(r.err()).contains("(supported: llama, qwen2, qwen3)");
    }
}
