package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** think4j chat --save / --load / /save: a conversation continues from a file as if it had not stopped. */
class ChatSessionCliTest {
    @TempDir
    Path dir;

    private static final String KV = "think:0.5+kivi:2,residual=32";

    /** Runs chat with the given stdin lines. */
    private static CliRunner chat(String stdin, String... args) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "chat";
            System.arraycopy(args, 0, all, 1, args.length);
            return CliRunner.run(all);
        } finally {
            System.setIn(saved);
        }
    }

    /** The replies in stdout: what follows each "> " prompt, one per turn. */
    private static List<String> replies(String out) {
        return Arrays.stream(out.split("> ")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    @Test
    void aLoadedConversationContinuesAsTheUninterruptedOne() throws Exception {
        String[] common = {"--kv", KV, "--temperature", "0", "-n", "60"};
        String first = "Once upon a time there was a girl named Lily who liked to play in the park with her friends.\n";
        String second = "Then a big dog came.\n";
        CliRunner whole = chat(first + second, common);
        assertThat(whole.exitCode()).as(whole.err()).isZero();
        List<String> expected = replies(whole.out());
        assertThat(expected).hasSize(2);

        Path file = dir.resolve("lily.t4j");
        CliRunner part1 = chat(first, concat(common, "--save", file.toString()));
        assertThat(part1.exitCode()).as(part1.err()).isZero();
        assertThat(part1.err()).contains("(saved ").contains(file.toString());
        assertThat(Files.size(file)).isPositive();

        // --kv left out: the file's spec is used
        CliRunner part2 = chat(second, "--temperature", "0", "-n", "60", "--load", file.toString());
        assertThat(part2.exitCode()).as(part2.err()).isZero();
        assertThat(part2.err()).contains("(continuing " + file).contains("--kv " + KV);
        assertThat(replies(part2.out())).containsExactly(expected.get(1));
    }

    @Test
    void slashSaveWritesTheConversationSoFar() throws Exception {
        Path file = dir.resolve("mid.t4j");
        CliRunner r = chat("Hello there.\n/save " + file + "\n/save\n", "--temperature", "0", "-n", "20");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("(saved ").contains("error: /save needs a file name");
        CliRunner again = chat("", "--load", file.toString(), "--kv", "full");
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.err()).contains("2 messages");
    }

    @Test
    void aDifferentKvSpecIsAOneLineError() {
        Path file = dir.resolve("full.t4j");
        assertThat(chat("Hi.\n", "--temperature", "0", "-n", "5", "--save", file.toString()).exitCode()).isZero();
        CliRunner r = chat("Hi.\n", "--load", file.toString(), "--kv", "think:0.5");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("error: session file " + file
                + " holds a cache compressed with --kv full, not think:0.5 (leave --kv out to use the file's)");
    }

    @Test
    void foreignDamagedAndMissingFilesAreOneLineErrors() throws Exception {
        Path gguf = Path.of("models", "stories260K.gguf").toAbsolutePath();
        CliRunner foreign = chat("", "--load", gguf.toString());
        assertThat(foreign.exitCode()).isEqualTo(2);
        assertThat(foreign.err().strip()).isEqualTo("error: session file " + gguf + " is not a think4j session file");

        Path file = dir.resolve("s.t4j");
        assertThat(chat("Hi.\n", "--temperature", "0", "-n", "5", "--save", file.toString()).exitCode()).isZero();
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, b.length - 7));
        CliRunner cut = chat("", "--load", file.toString());
        assertThat(cut.exitCode()).isEqualTo(2);
        assertThat(cut.err().strip()).startsWith("error: session file " + file + " is truncated").doesNotContain("\n");

        CliRunner missing = chat("", "--load", dir.resolve("nope.t4j").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err().strip()).isEqualTo("error: session file " + dir.resolve("nope.t4j") + " does not exist");
    }

    @Test
    void anotherModelIsNamedInTheError() throws Exception {
        Path other = dev.think4j.SharedFixtures.require("models/stories260K-q8_0.gguf");
        Path file = dir.resolve("s.t4j");
        assertThat(chat("Hi.\n", "--temperature", "0", "-n", "5", "--save", file.toString()).exitCode()).isZero();
        CliRunner r = chat("", "--model", other.toString(), "--load", file.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("error: session file " + file + " was saved for model llama")
                .contains("not for the loaded llama").doesNotContain("\n");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
