package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class BenchRestoreCommandTest {
    @Test
    void restoreBenchLoadsWhatItStoredWithIdenticalLogits() throws Exception {
        CliRunner r = CliRunner.run("bench", "--restore", "-p", "64", "-r", "1", "--kv", "full;think:0.5+kivi:2", "--no-warmup",
                "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(r.lastLine());
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).get("kv").asText()).isEqualTo("full");
        for (JsonNode row : rows) {
            assertThat(row.get("identical").asBoolean()).as(row.toString()).isTrue();
            assertThat(row.get("promptTokens").asInt()).isEqualTo(64);
            assertThat(row.get("store").asText()).isEqualTo("memory");
            assertThat(row.get("recomputeMs").asDouble()).isPositive();
            assertThat(row.get("restoreMs").asDouble()).isPositive();
            assertThat(row.get("speedup").asDouble()).isCloseTo(row.get("recomputeMs").asDouble() / row.get("restoreMs").asDouble(),
                    org.assertj.core.data.Percentage.withPercentage(0.01));
            // a session holds the cache as stored, plus its token ids and a small header
            assertThat(row.get("storedBytes").asLong()).isGreaterThan(row.get("cacheBytes").asLong() + 4 * 64)
                    .isLessThan(row.get("cacheBytes").asLong() + 4 * 64 + 4096);
        }
        assertThat(rows.get(1).get("cacheBytes").asLong()).as("the compressed cache is smaller")
                .isLessThan(rows.get(0).get("cacheBytes").asLong());
        assertThat(r.err()).contains("| full | 64 |").contains("| think:0.5+kivi:2 | 64 |");
    }

    @Test
    void restoreOptionsAreOneLineErrors() {
        CliRunner both = CliRunner.run("bench", "--restore", "--batch", "2");
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err().strip()).isEqualTo("error: --restore and --batch are different benchmarks; choose one");
        CliRunner store = CliRunner.run("bench", "--kv-store", "redis://127.0.0.1:1");
        assertThat(store.exitCode()).isEqualTo(2);
        assertThat(store.err().strip()).isEqualTo("error: --kv-store applies to bench --restore only");
        CliRunner down = CliRunner.run("bench", "--restore", "--kv-store", "redis://127.0.0.1:1");
        assertThat(down.exitCode()).isEqualTo(2);
        assertThat(down.err()).startsWith("error: --kv-store redis://127.0.0.1:1/0 is unreachable");
    }
}
