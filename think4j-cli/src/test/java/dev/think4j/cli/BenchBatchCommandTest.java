package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class BenchBatchCommandTest {
    @Test
    void batchBenchReportsEverySizeWithConsistentTotalsAndLatencies() throws Exception {
        CliRunner r = CliRunner.run("bench", "--batch", "1,3", "-p", "24", "-n", "5", "--no-warmup", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(r.lastLine());
        assertThat(rows).hasSize(2);
        for (JsonNode row : rows) {
            int b = row.get("batch").asInt();
            assertThat(row.get("tokens").asLong()).as("every request ran to -n").isEqualTo((long) b * (24 + 5));
            assertThat(row.get("aggregate").asDouble())
                    .isCloseTo(row.get("tokens").asDouble() / row.get("seconds").asDouble(), org.assertj.core.data.Percentage.withPercentage(0.01));
            assertThat(row.get("prefill").asDouble()).isPositive();
            assertThat(row.get("decode").asDouble()).isPositive();
            for (String key : new String[] {"ttftMs", "itlMs"}) {
                JsonNode q = row.get(key);
                assertThat(q).hasSize(3);
                assertThat(q.get(0).asDouble()).isPositive().isLessThanOrEqualTo(q.get(1).asDouble());
                assertThat(q.get(1).asDouble()).isLessThanOrEqualTo(q.get(2).asDouble());
            }
        }
        assertThat(rows.get(1).get("batch").asInt()).isEqualTo(3);
        assertThat(r.err()).contains("| 1 | 24 | 5 | 29 |").contains("| 3 | 24 | 5 | 87 |");
    }

    @Test
    void badBatchSizesAreOneLineErrors() {
        CliRunner r = CliRunner.run("bench", "--batch", "2,0");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("error: --batch sizes must be >= 1, got 0");
    }
}
