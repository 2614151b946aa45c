package dev.think4j.eval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.think4j.SharedFixtures;
import dev.think4j.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** End-to-end runs of every eval task on the bundled stories260K model, with tiny grids. */
class EvalCommandsTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static String model() {
        return SharedFixtures.bundledModel().toString();
    }

    static List<String> lines(Path f) throws Exception {
        return Files.readAllLines(f);
    }

    @Test
    void niahGridWritesHeatmapReportAndResumes() throws Exception {
        Path hay = SharedFixtures.require("data/haystack");
        Path out = tmp.resolve("niah");
        Run r = run("eval", "niah", "-m", model(), "--haystack", hay.toString(), "--lengths", "256,512", "--depths", "0,100",
                "--max-new-tokens", "8", "--kv", "full;think:0.5", "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(lines(out.resolve(ResultLog.FILE))).hasSize(8);
        JsonNode s = Jsonl.MAPPER.readTree(r.out());
        assertThat(s.path("settings").has("full")).isTrue();
        assertThat(s.path("settings").path("think:0.5").path("kv_bytes").asDouble())
                .isLessThan(s.path("settings").path("full").path("kv_bytes").asDouble());
        assertThat(Files.size(out.resolve("niah_0.png"))).isGreaterThan(1000);
        assertThat(Files.readString(out.resolve("report.md"))).contains("![NIAH heatmap full](niah_0.png)");
        // a re-run finds everything done: nothing is appended
        Run again = run("eval", "niah", "-m", model(), "--haystack", hay.toString(), "--lengths", "256,512", "--depths", "0,100",
                "--max-new-tokens", "8", "--kv", "full;think:0.5", "--out", out.toString(), "--json");
        assertThat(again.code()).isZero();
        assertThat(lines(out.resolve(ResultLog.FILE))).hasSize(8);
    }

    @Test
    void niahBadInputsAreClearErrors() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Run r = run("eval", "niah", "-m", model(), "--haystack", empty.toString(), "--out", tmp.resolve("o").toString());
        assertThat(r.code()).isEqualTo(Main.EXIT_USER_ERROR);
        assertThat(r.err()).contains("haystack folder " + empty + " has no non-empty .txt files");
        Path hay = SharedFixtures.require("data/haystack");
        Run big = run("eval", "niah", "-m", model(), "--haystack", hay.toString(), "--lengths", "4096", "--out", tmp.resolve("o").toString());
        assertThat(big.code()).isEqualTo(Main.EXIT_USER_ERROR);
        assertThat(big.err()).contains("grid length 4096 plus 32 answer tokens exceeds the model context of 2048 tokens");
    }

    @Test
    void recallReportsFullCacheBaselineNextToEachSetting() throws Exception {
        Path text = SharedFixtures.require("data/tinystories/tinystories_val_500.txt");
        Path out = tmp.resolve("recall");
        Run r = run("eval", "recall", "-m", model(), "--text", text.toString(), "--context-tokens", "128", "--depths", "50",
                "--examples", "2", "--kv", "think:0.5", "--kv", "snapkv:64", "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode s = Jsonl.MAPPER.readTree(r.out()).path("settings");
        assertThat(s.fieldNames()).toIterable().containsExactly("full", "think:0.5", "snapkv:64");
        double full = s.path("full").path("accuracy").asDouble();
        assertThat(s.path("think:0.5").path("full_cache_accuracy").asDouble()).isEqualTo(full);
        assertThat(lines(out.resolve(ResultLog.FILE))).hasSize(6);
        assertThat(Files.size(out.resolve("recall_by_depth.png"))).isGreaterThan(1000);
    }

    @Test
    void rulerResumesAfterAnInterruptedRunAndKeepsResultsOnBadInput() throws Exception {
        Path data = SharedFixtures.require("data/ruler/niah_multikey_3_4096.jsonl");
        Path out = tmp.resolve("ruler");
        Run first = run("eval", "ruler", "-m", model(), "--data", data.toString(), "--max-examples", "2", "--max-new-tokens", "4",
                "--out", out.toString());
        assertThat(first.code()).as(first.err()).isZero();
        Path log = out.resolve(ResultLog.FILE);
        List<String> done = lines(log);
        assertThat(done).hasSize(2);
        assertThat(Jsonl.MAPPER.readTree(done.get(0)).path("truncated").asBoolean()).isTrue();
        // simulate a kill in the middle of writing a third result
        Files.writeString(log, "{\"key\":\"full|2\",\"predic", java.nio.file.StandardOpenOption.APPEND);
        Run second = run("eval", "ruler", "-m", model(), "--data", data.toString(), "--max-examples", "3", "--max-new-tokens", "4",
                "--out", out.toString(), "--json");
        assertThat(second.code()).as(second.err()).isZero();
        List<String> after = lines(log);
        assertThat(after).hasSize(3);
        assertThat(after.subList(0, 2)).isEqualTo(done); // finished examples were not redone
        assertThat(Jsonl.MAPPER.readTree(second.out()).path("settings").path("full").path("examples").asInt()).isEqualTo(3);
        assertThat(Files.readString(out.resolve("report.md"))).contains("![string match by setting](ruler.png)");
        assertThat(Files.size(out.resolve("ruler.png"))).isGreaterThan(1000);

        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, Files.readAllLines(data).get(0) + "\n{\"index\": 9, \"input\": \"x\"}\n");
        Run broken = run("eval", "ruler", "-m", model(), "--data", bad.toString(), "--out", out.toString());
        assertThat(broken.code()).isEqualTo(Main.EXIT_USER_ERROR);
        assertThat(broken.err()).contains(bad + ":2: missing field 'outputs'");
        assertThat(lines(log)).isEqualTo(after);
    }

    @Test
    void longBenchPerDatasetAndAverage() throws Exception {
        Path data = SharedFixtures.require("data/longbench/multi_news.jsonl");
        Path out = tmp.resolve("lb");
        Run r = run("eval", "longbench", "-m", model(), "--data", data.toString(), "--max-examples", "2", "--max-new-tokens", "8",
                "--ctx", "512", "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode full = Jsonl.MAPPER.readTree(r.out()).path("settings").path("full");
        assertThat(full.path("multi_news").asDouble()).isEqualTo(full.path("average").asDouble()).isBetween(0.0, 100.0);
        assertThat(Files.readString(out.resolve("report.md"))).contains("![scores by dataset](longbench.png)");
        assertThat(Files.size(out.resolve("longbench.png"))).isGreaterThan(1000);
        for (String l : lines(out.resolve(ResultLog.FILE))) {
            JsonNode n = Jsonl.MAPPER.readTree(l);
            assertThat(n.path("prompt_tokens").asInt()).isEqualTo(512 - 8);
            assertThat(n.path("dataset").asText()).isEqualTo("multi_news");
        }
    }

    @Test
    void fidelityIsZeroForALosslessSettingAndGrowsWithPruning() throws Exception {
        Path out = tmp.resolve("fid");
        String prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun with her dog Max. "
                + "One day, they found a big red ball in the park.";
        Run r = run("eval", "fidelity", "-m", model(), "--prompt", prompt, "--probe", "8", "--kv", "think:0;think:0.5;snapkv:40,window=8",
                "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode s = Jsonl.MAPPER.readTree(r.out()).path("settings");
        assertThat(s.path("think:0").path("layer0_output_rel_error").asDouble()).isLessThan(1e-6);
        assertThat(s.path("think:0").path("layer0_logit_rel_loss").asDouble()).isLessThan(1e-6);
        assertThat(s.path("think:0.5").path("layer0_logit_rel_loss").asDouble()).isGreaterThan(1e-3);
        assertThat(s.path("think:0.5").path("layer0_output_rel_error").asDouble()).isGreaterThan(1e-4);
        // eviction: token logits no longer pair up, so the logit loss is not reported
        assertThat(s.path("snapkv:40,window=8").path("layer0_logit_rel_loss").isNull()
                || s.path("snapkv:40,window=8").path("layer0_logit_rel_loss").asText().equals("NaN")).isTrue();
        assertThat(Files.size(out.resolve("fidelity_logits.png"))).isGreaterThan(1000);
    }

    @Test
    void channelsWritesHeatmapsAndSpectrum() throws Exception {
        Path out = tmp.resolve("ch");
        String prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun with her dog Max. "
                + "One day, they found a big red ball in the park. They played all day.";
        Run r = run("eval", "channels", "-m", model(), "--prompt", prompt, "--window", "8", "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode sp = Jsonl.MAPPER.readTree(r.out()).path("spectrum").path("layer0");
        assertThat(sp.size()).isEqualTo(8);
        assertThat(sp.get(0).asDouble()).isEqualTo(1.0);
        for (int i = 1; i < sp.size(); i++) {
            assertThat(sp.get(i).asDouble()).isLessThanOrEqualTo(sp.get(i - 1).asDouble() + 1e-9);
        }
        assertThat(Files.size(out.resolve("channels_heads.png"))).isGreaterThan(1000);
        assertThat(Files.size(out.resolve("channels_layer0.png"))).isGreaterThan(1000);
        assertThat(Files.size(out.resolve("spectrum.png"))).isGreaterThan(1000);
    }

    @Test
    void sweepWritesCsvAndParetoChartAndResumes() throws Exception {
        Path text = SharedFixtures.require("data/tinystories/tinystories_val_500.txt");
        Path out = tmp.resolve("sweep");
        String[] args = {"eval", "sweep", "-m", model(), "--text", text.toString(), "--max-docs", "2", "--lambdas", "0.25,0.5",
            "--out", out.toString(), "--json"};
        Run r = run(args);
        assertThat(r.code()).as(r.err()).isZero();
        List<String> csv = lines(out.resolve("sweep.csv"));
        assertThat(csv.get(0)).isEqualTo("spec,kv_bytes,ratio,perplexity,kl");
        assertThat(csv).hasSize(4);
        assertThat(csv.get(1)).startsWith("full,").contains(",1.000000,");
        assertThat(csv.get(3)).startsWith("think:0.5,");
        String[] half = csv.get(3).split(",");
        assertThat(Double.parseDouble(half[2])).isLessThan(1.0);
        assertThat(Double.parseDouble(half[4])).isGreaterThan(0);
        assertThat(Files.size(out.resolve("pareto_perplexity.png"))).isGreaterThan(1000);
        List<String> before = lines(out.resolve(ResultLog.FILE));
        assertThat(run(args).code()).isZero();
        assertThat(lines(out.resolve(ResultLog.FILE))).isEqualTo(before);
    }
}
