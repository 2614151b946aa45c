package dev.think4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.think4j.Think4jException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PureHelpersTest {
    @TempDir
    Path tmp;

    @Test
    void middleTruncationKeepsBothEnds() {
        assertThat(MiddleTruncation.truncate(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 4)).containsExactly(1, 2, 9, 10);
        assertThat(MiddleTruncation.truncate(new int[] {1, 2, 3, 4, 5}, 4)).containsExactly(1, 2, 4, 5);
        assertThat(MiddleTruncation.truncate(new int[] {1, 2, 3}, 5)).containsExactly(1, 2, 3);
    }

    @Test
    void needleGoesAfterTheSentenceEndBeforeTheDepth() {
        String text = "A b. C d. E f.";
        assertThat(NeedlePlacer.insert(text, "N.", 0.5)).isEqualTo("A b. N. C d. E f.");
        assertThat(NeedlePlacer.insert(text, "N.", 0)).isEqualTo("N. A b. C d. E f.");
        assertThat(NeedlePlacer.insert(text, "N.", 1)).isEqualTo("A b. C d. E f. N.");
        assertThatThrownBy(() -> NeedlePlacer.insert(text, "N.", 1.5)).isInstanceOf(Think4jException.class);
    }

    @Test
    void longBenchTemplatesAndPostProcessing() {
        LongBenchDataset mn = LongBenchDataset.of("multi_news");
        assertThat(mn.prompt("CTX {x}", "")).isEqualTo("You are given several news passages. Write a one-page summary of all news. \n\nNews:\nCTX {x}"
                + "\n\nNow, write a one-page summary of all the news.\n\nSummary:");
        assertThat(mn.maxNewTokens()).isEqualTo(512);
        assertThat(mn.metric()).isEqualTo(LongBenchDataset.Metric.ROUGE_L);
        // few-shot datasets are scored on the first answer line only; best over reference answers
        assertThat(LongBenchDataset.of("triviaqa").score("\nParis\nQuestion: next", List.of("London", "Paris"), List.of())).isEqualTo(1.0);
        assertThat(LongBenchDataset.of("hotpotqa").score("Paris\nand more", List.of("Paris"), List.of())).isCloseTo(0.5, within(1e-12));
        assertThat(LongBenchDataset.of("lcc").metric()).isEqualTo(LongBenchDataset.Metric.CODE_SIM);
        assertThat(LongBenchDataset.of("hotpotqa_e").name()).isEqualTo("hotpotqa");
        assertThatThrownBy(() -> LongBenchDataset.of("nope")).hasMessageContaining("multi_news");
    }

    @Test
    void paretoFrontKeepsUndominatedPoints() {
        List<Charts.Point> pts = List.of(new Charts.Point("full", 1.0, 3.0), new Charts.Point("a", 0.5, 3.5),
                new Charts.Point("b", 0.5, 4.0), new Charts.Point("c", 0.25, 5.0), new Charts.Point("d", 0.75, 3.6));
        assertThat(Pareto.front(pts)).extracting(Charts.Point::label).containsExactly("c", "a", "full");
    }

    @Test
    void sweepGridCombinesMethodsBudgetsAndLambdas() {
        assertThat(SweepGrid.specs(List.of(), List.of("none", "snapkv"), List.of(64), List.of(0.0, 0.5), "think"))
                .containsExactly("full", "think:0.5", "snapkv:64", "snapkv:64+think:0.5");
        assertThat(SweepGrid.specs(List.of("think:0.25", "full"), null, null, null, "think")).containsExactly("full", "think:0.25");
        assertThatThrownBy(() -> SweepGrid.specs(List.of(), List.of("h2o"), List.of(), List.of(), "think")).hasMessageContaining("--budgets");
    }

    @Test
    void singularValuesOfKnownMatrices() {
        double[] sv = ChannelStats.singularValues(new double[][] {{3, 0, 0}, {0, 4, 0}});
        assertThat(sv[0]).isCloseTo(4, within(1e-9));
        assertThat(sv[1]).isCloseTo(3, within(1e-9));
        // rank one: u v^T with |u| = sqrt(2), |v| = sqrt(5)
        double[] r1 = ChannelStats.singularValues(new double[][] {{1, 2}, {1, 2}});
        assertThat(r1[0]).isCloseTo(Math.sqrt(10), within(1e-9));
        assertThat(r1[1]).isCloseTo(0, within(1e-6));
    }

    @Test
    void jsonlErrorsNameFileAndLine() throws Exception {
        Path f = tmp.resolve("data.jsonl");
        Files.writeString(f, "{\"input\": \"a\", \"outputs\": [\"x\"]}\n\n{\"input\": \"b\", \"outputs\": [\"y\"\n");
        assertThatThrownBy(() -> Jsonl.read(f, 0)).isInstanceOf(Think4jException.class).hasMessageContaining(f + ":3: malformed JSON");
        Files.writeString(f, "{\"input\": \"a\"}\n");
        assertThatThrownBy(() -> RulerTask.examples(f, 0, 8)).isInstanceOf(Think4jException.class)
                .hasMessage(f + ":1: missing field 'outputs'");
        Files.writeString(f, "[1, 2]\n");
        assertThatThrownBy(() -> Jsonl.read(f, 0)).hasMessage(f + ":1: expected a JSON object");
        Files.writeString(f, "\n");
        assertThatThrownBy(() -> Jsonl.read(f, 0)).hasMessageContaining("has no records");
        Files.writeString(f, "{\"input\":\"i\",\"context\":\"c\",\"dataset\":\"multi_news\"}\n");
        assertThatThrownBy(() -> LongBenchTask.examples(f, 0, null)).hasMessage(f + ":1: missing field 'answers'");
    }

    @Test
    void resultLogResumesAndDropsATornLastLine() throws Exception {
        try (ResultLog log = new ResultLog(tmp)) {
            log.append("a", Jsonl.MAPPER.createObjectNode().put("v", 1));
            log.append("b", Jsonl.MAPPER.createObjectNode().put("v", 2));
        }
        Path f = tmp.resolve(ResultLog.FILE);
        Files.writeString(f, Files.readString(f) + "{\"key\":\"c\",\"v\":", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        try (ResultLog log = new ResultLog(tmp)) {
            assertThat(log.isDone("a")).isTrue();
            assertThat(log.get("b").get("v").asInt()).isEqualTo(2);
            assertThat(log.isDone("c")).isFalse();
            log.append("c", Jsonl.MAPPER.createObjectNode().put("v", 3));
        }
        assertThat(Files.readAllLines(f)).hasSize(3).allMatch(l -> l.startsWith("{") && l.endsWith("}"));
        Files.writeString(f, "{\"key\":\"a\"}\nnot json\n{\"key\":\"b\"}\n");
        assertThatThrownBy(() -> new ResultLog(tmp)).isInstanceOf(Think4jException.class).hasMessageContaining(f + ":2");
    }
}
