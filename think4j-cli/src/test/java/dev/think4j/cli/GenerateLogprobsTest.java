package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** generate --logprobs K: the JSON contract, the stderr table, and validation. */
class GenerateLogprobsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void jsonCarriesOneEntryPerGeneratedTokenAndGreedyOutputIsUnchanged() throws Exception {
        CliRunner plain = CliRunner.run("generate", "--prompt", "Once upon a time", "-n", "16", "--temperature", "0", "--json");
        CliRunner r = CliRunner.run("generate", "--prompt", "Once upon a time", "-n", "16", "--temperature", "0", "--json",
                "--logprobs", "3");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode p = JSON.readTree(plain.lastLine());
        JsonNode n = JSON.readTree(r.lastLine());
        assertThat(p.has("logprobs")).isFalse();
        assertThat(n.get("output_ids")).isEqualTo(p.get("output_ids"));
        assertThat(n.get("text")).isEqualTo(p.get("text"));
        JsonNode lps = n.get("logprobs");
        assertThat(lps.size()).isEqualTo(n.get("output_ids").size()).isEqualTo(16);
        StringBuilder pieces = new StringBuilder();
        for (int i = 0; i < lps.size(); i++) {
            JsonNode e = lps.get(i);
            assertThat(e.get("id").asInt()).isEqualTo(n.get("output_ids").get(i).asInt());
            double lp = e.get("logprob").asDouble();
            assertThat(lp).isLessThanOrEqualTo(0).isGreaterThan(-50);
            JsonNode top = e.get("top");
            assertThat(top.size()).isEqualTo(3);
            assertThat(top.get(0).get("id").asInt()).isEqualTo(e.get("id").asInt());
            assertThat(top.get(0).get("logprob").asDouble()).isEqualTo(lp);
            assertThat(top.get(1).get("logprob").asDouble()).isLessThanOrEqualTo(top.get(0).get("logprob").asDouble());
            assertThat(top.get(2).get("logprob").asDouble()).isLessThanOrEqualTo(top.get(1).get("logprob").asDouble());
            // the three most likely hold no more than all the probability
            double mass = 0;
            for (JsonNode t : top) {
                mass += Math.exp(t.get("logprob").asDouble());
                assertThat(t.get("piece").isTextual()).isTrue();
            }
            assertThat(mass).isLessThanOrEqualTo(1 + 1e-9);
            pieces.append(e.get("piece").asText());
        }
        // the bundled model's pieces are whole characters, so they spell the text
        assertThat(pieces.toString()).isEqualTo(n.get("text").asText());
    }

    @Test
    void plainModePrintsATableOnStderrAfterTheText() {
        CliRunner r = CliRunner.run("generate", "--prompt", "Once upon a time", "-n", "4", "--temperature", "0", "--logprobs", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Once upon a time").doesNotContain("log-prob");
        String[] lines = r.err().strip().split("\n");
        int header = java.util.Arrays.asList(lines).indexOf(
                "[log-probs of the generated tokens (raw logits, temperature 1): position, token, log-prob | top alternatives]");
        assertThat(header).as(r.err()).isGreaterThanOrEqualTo(0);
        assertThat(lines.length - header - 1).isEqualTo(4);
        assertThat(lines[header + 1]).matches("\\s*0\\s+'.*'\\s+-?\\d+\\.\\d{4}\\s+\\| '.*' -?\\d+\\.\\d{4} '.*' -?\\d+\\.\\d{4}");
    }

    @Test
    void outOfRangeKIsOneLineAndExitTwo() {
        for (String k : new String[] {"21", "-1"}) {
            CliRunner r = CliRunner.run("generate", "--prompt", "Once", "--logprobs", k);
            assertThat(r.exitCode()).isEqualTo(2);
            assertThat(r.err().strip()).isEqualTo("error: --logprobs must be in 0..20, got " + k);
            assertThat(r.out()).isEmpty();
        }
    }
}
