package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.SharedFixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The documented commands run end to end on the bundled model and report what they promise. */
class CliCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void generateJsonMatchesTheReferenceEngine() throws Exception {
        CliRunner r = CliRunner.run("generate", "--prompt", "Once upon a time", "--max-tokens", "64", "--temperature", "0", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = JSON.readTree(r.lastLine());
        JsonNode ref = JSON.readTree(SharedFixtures.require("reference/llamacpp_stories260K.json").toFile()).get("results").get(0);
        assertThat(n.get("prompt_ids")).isEqualTo(ref.get("prompt_ids"));
        assertThat(n.get("output_ids")).isEqualTo(ref.get("output_ids"));
        assertThat(n.get("text").asText()).isEqualTo(ref.get("text").asText());
        assertThat(n.get("stop_reason").asText()).isEqualTo("length");
        for (String f : new String[] {"kv_bytes", "kv_bytes_uncompressed", "prefill_tokens_per_second", "decode_tokens_per_second"}) {
            assertThat(n.has(f)).as(f).isTrue();
        }
        // dense cache: 69 tokens x 5 layers x 4 KV heads x 8 x 2 (K and V) x 4 bytes
        assertThat(n.get("kv_bytes").asLong()).isEqualTo(n.get("kv_bytes_uncompressed").asLong()).isEqualTo(68L * 5 * 4 * 8 * 2 * 4);
    }

    @Test
    void generateWithThinkReportsFewerBytes() throws Exception {
        String prompt = "Once upon a time there was a little girl named Lily. She loved to play outside in the park with her "
                + "friends. One day, she saw a big red ball in the sky and she wanted to catch it.";
        CliRunner r = CliRunner.run("generate", "--prompt", prompt, "--max-tokens", "1", "--temperature", "0", "--json",
                "--kv", "think:0.5", "--live-heap");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = JSON.readTree(r.lastLine());
        // the cache is alive during the measurement, so the heap holds at least its counted bytes
        assertThat(n.get("live_heap_bytes").asLong()).isGreaterThanOrEqualTo(n.get("kv_bytes").asLong());
        int prompts = n.get("prompt_ids").size();
        long layersHeads = 5L * 4;
        // after the prompt: (n-32) tokens x 4 kept key channels + 32 x 8, values dense, + 4-entry index list
        long expected = layersHeads * (((long) (prompts - 32) * 4 + 32L * 8) * 4 + 4L * 4 + (long) prompts * 8 * 4);
        assertThat(n.get("kv_bytes").asLong()).isEqualTo(expected);
        assertThat(n.get("kv_bytes_uncompressed").asLong()).isEqualTo(layersHeads * prompts * 8 * 2 * 4);
        assertThat(n.get("kv_spec").asText()).isEqualTo("think:0.5");
    }

    /** bench reports every spec and test; --interleave fills each spec's cache, then alternates their repetitions. */
    @Test
    void benchReportsEverySpecAndCanInterleaveDecodeRepetitions() throws Exception {
        for (boolean interleave : new boolean[] {false, true}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(
                    "bench", "-p", "16", "-n", "8", "-d", "64", "-r", "2", "--kv", "full;think:0.5", "--json"));
            if (interleave) {
                args.add("--interleave");
            }
            CliRunner r = CliRunner.run(args.toArray(String[]::new));
            assertThat(r.exitCode()).as(r.err()).isZero();
            JsonNode results = JSON.readTree(r.lastLine());
            assertThat(results).hasSize(4);
            java.util.Map<String, JsonNode> byKey = new java.util.HashMap<>();
            for (JsonNode n : results) {
                byKey.put(n.get("kvSpec").asText() + " " + n.get("test").asText(), n);
                assertThat(n.get("depth").asInt()).isEqualTo(64);
                assertThat(n.get("repetitions").asInt()).isEqualTo(2);
                double median = n.get("medianTokensPerSecond").asDouble();
                assertThat(median).isPositive().isBetween(n.get("minTokensPerSecond").asDouble(), n.get("maxTokensPerSecond").asDouble());
            }
            assertThat(byKey).containsOnlyKeys("full pp16", "full tg8", "think:0.5 pp16", "think:0.5 tg8");
            // ThinK compressed the 64 cached tokens; the full cache holds them all at float32
            assertThat(byKey.get("think:0.5 tg8").get("kvBytes").asLong()).isLessThan(byKey.get("full tg8").get("kvBytes").asLong());
            assertThat(byKey.get("full tg8").get("kvBytes").asLong()).isEqualTo(byKey.get("full tg8").get("kvBytesUncompressed").asLong());
            if (interleave) {
                assertThat(r.err()).contains("(interleaved)").contains("rep 1 --kv full").contains("rep 2 --kv think:0.5");
            } else {
                assertThat(r.err()).doesNotContain("(interleaved)");
            }
        }
    }

    @Test
    void channelsJson() throws Exception {
        CliRunner r = CliRunner.run("channels", "--prompt", "Once upon a time there was a little girl named Lily. She loved to "
                + "play outside in the park with her friends every day.", "--kv", "think:0.5", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = JSON.readTree(r.lastLine());
        assertThat(n.get("layers")).hasSize(5);
        JsonNode head = n.get("layers").get(0).get("kv_heads").get(3);
        assertThat(head.get("kv_head").asInt()).isEqualTo(3);
        assertThat(head.get("kept")).hasSize(4);
        assertThat(head.get("scores")).hasSize(8);
    }

    @Test
    void inspectReportsParametersAndKvBytes() throws Exception {
        CliRunner r = CliRunner.run("inspect", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = JSON.readTree(r.lastLine());
        assertThat(n.get("architecture").asText()).isEqualTo("llama");
        assertThat(n.get("kv_bytes_per_token_f32").asLong()).isEqualTo(2L * 5 * 4 * 8 * 4);
        assertThat(n.get("tensors").size()).isEqualTo(48);
        assertThat(n.get("parameters").asLong()).isGreaterThan(260_000);
    }

    @Test
    void synthThenInspectAndGenerate() throws Exception {
        Path out = dir.resolve("tiny.gguf");
        CliRunner s = CliRunner.run("synth", "--shape", "tiny", "--type", "Q8_0", "--out", out.toString());
        assertThat(s.exitCode()).as(s.err()).isZero();
        JsonNode n = JSON.readTree(CliRunner.run("inspect", "--model", out.toString(), "--json").lastLine());
        assertThat(n.get("parameters").asLong()).isEqualTo(dev.think4j.model.ModelShape.named("tiny").parameterCount());
        CliRunner g = CliRunner.run("generate", "--model", out.toString(), "--max-tokens", "4", "--json", "hello");
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(CliRunner.run("synth", "--shape", "nope", "--out", out.toString()).err()).contains("unknown shape 'nope'");
    }
}
