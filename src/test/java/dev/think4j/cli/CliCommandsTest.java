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
                "--kv", "think:0.5");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = JSON.readTree(r.lastLine());
        int prompts = n.get("prompt_ids").size();
        long layersHeads = 5L * 4;
        // after the prompt: (n-32) tokens x 4 kept key channels + 32 x 8, values dense, + 4-entry index list
        long expected = layersHeads * (((long) (prompts - 32) * 4 + 32L * 8) * 4 + 4L * 4 + (long) prompts * 8 * 4);
        assertThat(n.get("kv_bytes").asLong()).isEqualTo(expected);
        assertThat(n.get("kv_bytes_uncompressed").asLong()).isEqualTo(layersHeads * prompts * 8 * 2 * 4);
        assertThat(n.get("kv_spec").asText()).isEqualTo("think:0.5");
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
