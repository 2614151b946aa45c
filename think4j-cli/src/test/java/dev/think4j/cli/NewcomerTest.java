package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.SharedFixtures;
import dev.think4j.server.ApiRequest;
import dev.think4j.server.RequestParser;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** What a newcomer meets in the first hour: examples that show compression, and plain messages. */
class NewcomerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path STORY = Path.of("docs", "examples", "story.txt");

    @TempDir
    Path dir;

    private static void assertUserError(CliRunner r, String fragment) {
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.err()).isEqualTo(Main.EXIT_USER_ERROR);
        assertThat(r.err()).contains(fragment);
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("internal error");
        assertThat(r.err().lines().filter(l -> l.startsWith("error: ")).count()).isEqualTo(1);
    }

    @Test
    void bundledStoryCompressesWithThinkAndAShortPromptSaysWhyNot() throws Exception {
        CliRunner story = CliRunner.run("generate", "--prompt-file", STORY.toString(), "--max-tokens", "8", "--temperature", "0",
                "--kv", "think:0.5", "--json");
        assertThat(story.exitCode()).as(story.err()).isZero();
        JsonNode n = JSON.readTree(story.lastLine());
        assertThat(n.get("prompt_tokens").asInt()).isGreaterThan(300);
        assertThat(n.get("kv_bytes").asLong()).isLessThan(n.get("kv_bytes_uncompressed").asLong() * 9 / 10);
        assertThat(story.err()).doesNotContain("note:");
        // the file's final newline is not part of the prompt
        assertThat(n.get("prompt_ids").get(n.get("prompt_ids").size() - 1).asInt()).isNotEqualTo(13);

        CliRunner shortPrompt = CliRunner.run("generate", "--prompt", "Once upon a time", "--max-tokens", "4", "--temperature", "0",
                "--kv", "think:0.5", "--json");
        assertThat(shortPrompt.exitCode()).as(shortPrompt.err()).isZero();
        JsonNode s = JSON.readTree(shortPrompt.lastLine());
        assertThat(s.get("kv_bytes").asLong()).isEqualTo(s.get("kv_bytes_uncompressed").asLong());
        assertThat(shortPrompt.err()).contains("note: prompt of 5 tokens is not longer than the ThinK window 32: nothing compressed");
        assertThat(shortPrompt.out()).doesNotContain("note:");

        CliRunner channels = CliRunner.run("channels", "--prompt", "Once upon a time", "--kv", "think:0.5,window=4");
        assertThat(channels.exitCode()).as(channels.err()).isZero();
        assertThat(channels.err()).doesNotContain("note:");
        CliRunner longChannels = CliRunner.run("channels", "--prompt-file", STORY.toString(), "--kv", "think:0.5", "--json");
        assertThat(longChannels.exitCode()).as(longChannels.err()).isZero();
        assertThat(JSON.readTree(longChannels.lastLine()).at("/layers/0/kv_heads/0/kept").size()).isEqualTo(4);
    }

    @Test
    void promptOverTheContextPrintsNothingOnStdout() {
        CliRunner r = CliRunner.run("generate", "--ctx", "8", "--max-tokens", "1",
                "Once upon a time there was a little girl named Lily who liked to play in the park");
        assertUserError(r, "but the context is 8 tokens");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void ctxBeyondTheTrainedContextWarns() {
        CliRunner r = CliRunner.run("generate", "--ctx", "4096", "--max-tokens", "1", "--temperature", "0", "Once");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("warning: --ctx 4096 is beyond the model's trained context of 2048 tokens (llama.context_length)");
        CliRunner within = CliRunner.run("generate", "--ctx", "2048", "--max-tokens", "1", "--temperature", "0", "Once");
        assertThat(within.err()).doesNotContain("warning:");
    }

    @Test
    void promptGivenTwiceOrAsABinaryFileIsAUserError() throws Exception {
        assertUserError(CliRunner.run("generate", "--prompt-file", STORY.toString(), "hi"), "give the prompt once");
        Path gguf = SharedFixtures.bundledModel();
        assertUserError(CliRunner.run("generate", "--prompt-file", gguf.toString()), "is not UTF-8 text");
        assertUserError(CliRunner.run("eval", "fidelity", "--text", gguf.toString(), "--kv", "think:0.5",
                "--out", dir.resolve("f").toString()), "is not UTF-8 text");
        assertUserError(CliRunner.run("eval", "ppl", "--text", gguf.toString(), "--out", dir.resolve("p").toString()),
                "is not UTF-8 text");
        Path zeros = dir.resolve("zeros.txt");
        Files.write(zeros, new byte[64]);
        assertUserError(CliRunner.run("eval", "ppl", "--text", zeros.toString(), "--out", dir.resolve("p").toString()),
                "binary file, not text");
    }

    @Test
    void mistypedCommandsGetTheClosestName() {
        CliRunner r = CliRunner.run("genrate", "hi");
        assertUserError(r, "error: unknown command 'genrate' (did you mean 'generate'?)");
        assertThat(r.err()).doesNotContain("Unmatched");
        assertUserError(CliRunner.run("eval", "pll"), "unknown eval task 'pll' (did you mean 'ppl'?)");
        assertUserError(CliRunner.run("xyzzy"), "unknown command 'xyzzy'; the commands are: generate, chat, eval");
        assertThat(Main.editDistance("genrate", "generate")).isEqualTo(1);
        assertThat(Main.editDistance("gneerate", "generate")).isEqualTo(1);
        assertThat(Main.editDistance("", "ppl")).isEqualTo(3);
    }

    @Test
    void oneSpecCommandsSayWhichCommandsTakeSeveral() {
        CliRunner r = CliRunner.run("eval", "ppl", "--text", STORY.toString(), "--kv", "full;think:0.5",
                "--out", dir.resolve("p").toString());
        assertUserError(r, "'eval ppl' takes one --kv spec, got 2 (full, think:0.5)");
        assertThat(r.err()).contains("eval niah").contains("bench");
        assertUserError(CliRunner.run("generate", "--kv", "full;think:0.5", "hi"), "'generate' takes one --kv spec");
    }

    /** Every short option means one thing (llama.cpp's meaning) in every command that has it. */
    @Test
    void shortOptionsMeanTheSameEverywhere() {
        Map<String, Set<String>> allowed = Map.of(
                "-m", Set.of("--model"),
                "-p", Set.of("--prompt", "--n-prompt"),
                "-n", Set.of("--max-tokens", "--n-gen"),
                "-t", Set.of("--threads"),
                "-s", Set.of("--seed"),
                "-f", Set.of("--prompt-file"),
                "-d", Set.of("--depth"),
                "-r", Set.of("--repetitions"),
                "-h", Set.of("--help"),
                "-V", Set.of("--version"));
        Map<String, Set<String>> seen = new HashMap<>();
        collect(Main.commandLine(), seen);
        assertThat(seen).isNotEmpty();
        for (Map.Entry<String, Set<String>> e : seen.entrySet()) {
            assertThat(allowed).as("short option %s (%s) is not documented", e.getKey(), e.getValue()).containsKey(e.getKey());
            assertThat(allowed.get(e.getKey())).as("meanings of %s", e.getKey()).containsAll(e.getValue());
        }
        assertThat(seen.get("-t")).containsExactly("--threads");
        CliRunner threads = CliRunner.run("generate", "-t", "0", "hi");
        assertUserError(threads, "--threads must be >= 1");
        CliRunner temp = CliRunner.run("generate", "--temp", "0", "-n", "2", "-t", "1", "--json", "Once");
        assertThat(temp.exitCode()).as(temp.err()).isZero();
    }

    private static void collect(CommandLine cl, Map<String, Set<String>> seen) {
        for (OptionSpec o : cl.getCommandSpec().options()) {
            String longName = o.longestName();
            for (String n : o.names()) {
                if (n.length() == 2 && n.startsWith("-")) {
                    seen.computeIfAbsent(n, k -> new TreeSet<>()).add(longName);
                }
            }
        }
        cl.getSubcommands().values().forEach(sub -> collect(sub, seen));
    }

    @Test
    void inspectNamesSmallParameterCountsInUnits() {
        assertThat(InspectCommand.parameterCount(999)).isEqualTo("999");
        assertThat(InspectCommand.parameterCount(292_800)).isEqualTo("292.8K");
        assertThat(InspectCommand.parameterCount(999_960)).isEqualTo("1.0M");
        assertThat(InspectCommand.parameterCount(15_200_000)).isEqualTo("15.2M");
        assertThat(InspectCommand.parameterCount(1_235_814_400L)).isEqualTo("1.24B");
        assertThat(InspectCommand.parameterCount(70_553_706_496L)).isEqualTo("70.6B");
        CliRunner r = CliRunner.run("inspect");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("parameters 292,800 (292.8K)").doesNotContain("0.000 B");
    }

    @Test
    void serveOnABusyPortIsOneLine() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = busy.getLocalPort();
            CliRunner r = CliRunner.run("serve", "--host", "127.0.0.1", "--port", String.valueOf(port));
            assertUserError(r, "error: port " + port + " is already in use");
            assertThat(r.err().lines().count()).isEqualTo(1);
        }
    }

    @Test
    void serverSamplesLikeTheCliWhenARequestOmitsSettings() {
        CommandLine.Model.CommandSpec generate = Main.commandLine().getSubcommands().get("generate").getCommandSpec();
        assertThat(Float.parseFloat(generate.findOption("--temperature").defaultValue())).isEqualTo(RequestParser.DEFAULT_TEMPERATURE);
        assertThat(Float.parseFloat(generate.findOption("--top-p").defaultValue())).isEqualTo(RequestParser.DEFAULT_TOP_P);
        assertThat(Integer.parseInt(generate.findOption("--top-k").defaultValue())).isEqualTo(RequestParser.DEFAULT_TOP_K);
        assertThat(Float.parseFloat(generate.findOption("--min-p").defaultValue())).isEqualTo(RequestParser.DEFAULT_MIN_P);
        RequestParser parser = new RequestParser(JSON, "m", 5);
        ApiRequest bare = parser.completion("{\"model\":\"m\",\"prompt\":\"hi\"}");
        assertThat(bare.temperature()).isEqualTo(0.8f);
        assertThat(bare.topP()).isEqualTo(0.95f);
        ApiRequest explicit = parser.completion("{\"model\":\"m\",\"prompt\":\"hi\",\"temperature\":1.0,\"top_p\":1.0}");
        assertThat(explicit.temperature()).isEqualTo(1.0f);
        assertThat(explicit.topP()).isEqualTo(1.0f);
    }

    @Test
    void benchSkipsDepthsPastTheContextAndWarmsUpFirst() throws Exception {
        CliRunner r = CliRunner.run("bench", "-p", "16", "-n", "4", "-d", "0,4096", "-r", "1", "--kv", "full;think:0.5", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("note: skipping depth 4096: 4096 cached + 16 test tokens exceed the model's context of 2048 tokens");
        assertThat(r.err()).contains("warm-up --kv full:").contains("warm-up --kv think:0.5:");
        // the warm-ups come before the first timed repetition
        assertThat(r.err().indexOf("warm-up --kv think:0.5")).isLessThan(r.err().indexOf("rep 1"));
        JsonNode results = JSON.readTree(r.lastLine());
        assertThat(results).hasSize(4);
        for (JsonNode n : results) {
            assertThat(n.get("depth").asInt()).isZero();
        }
        CliRunner none = CliRunner.run("bench", "-p", "16", "-n", "4", "-d", "4096", "-r", "1", "--no-warmup");
        assertUserError(none, "every --depth plus the test tokens (-p/-n) exceeds the model's context of 2048 tokens");
        CliRunner cold = CliRunner.run("bench", "-p", "8", "-n", "0", "-r", "1", "--no-warmup");
        assertThat(cold.exitCode()).as(cold.err()).isZero();
        assertThat(cold.err()).doesNotContain("warm-up");
    }

    @Test
    void pplWritesAReportWithPerDocumentCharts() throws Exception {
        Path text = dir.resolve("docs.txt");
        String story = Files.readString(STORY);
        Files.writeString(text, story + "\n<|endoftext|>\n" + story.substring(0, story.length() / 2) + "\n");
        Path out = dir.resolve("ppl");
        CliRunner r = CliRunner.run("eval", "ppl", "--text", text.toString(), "--compress-after", "0.5", "--kv", "think:0.5",
                "--out", out.toString(), "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String md = Files.readString(out.resolve("report.md"));
        assertThat(md).contains("![perplexity per document](ppl_by_document.png)").contains("![KL per document](kl_by_document.png)")
                .contains("| think:0.5 |");
        assertThat(Files.size(out.resolve("ppl_by_document.png"))).isGreaterThan(1000);
        assertThat(Files.size(out.resolve("kl_by_document.png"))).isGreaterThan(1000);
        assertThat(JSON.readTree(r.lastLine()).get("documents").asInt()).isEqualTo(2);
        assertThat(List.of(Files.readString(out.resolve("result.json")))).isNotEmpty();
    }
}
