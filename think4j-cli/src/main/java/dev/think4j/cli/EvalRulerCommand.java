package dev.think4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.eval.Charts;
import dev.think4j.eval.Example;
import dev.think4j.eval.Report;
import dev.think4j.eval.RulerTask;
import dev.think4j.eval.Summary;
import dev.think4j.kv.KvPolicy;
import dev.think4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** think4j eval ruler: RULER jsonl with the string-match metric. */
@Command(name = "ruler", mixinStandardHelpOptions = true,
        description = "RULER task file (fields input, outputs); score = share of expected outputs contained in the answer.")
public final class EvalRulerCommand extends GenerationEvalCommand {
    @Option(names = "--data", required = true, paramLabel = "FILE", description = "RULER jsonl file")
    Path data;

    @Option(names = "--max-examples", defaultValue = "0", paramLabel = "N", description = "first N examples (0 = all)")
    int maxExamples;

    @Option(names = "--max-new-tokens", defaultValue = "128", paramLabel = "N", description = "answer budget (default: ${DEFAULT-VALUE})")
    int maxNew;

    @Override
    String task() {
        return "ruler";
    }

    @Override
    List<Example> examples(Tokenizer tokenizer, int contextLength) {
        return RulerTask.examples(data, maxExamples, maxNew);
    }

    @Override
    ObjectNode summarize(List<ObjectNode> results, List<KvPolicy> policies, Path dir, Report report) {
        ObjectNode summary = object();
        ObjectNode per = summary.putObject("settings");
        List<List<String>> rows = new ArrayList<>();
        for (KvPolicy p : policies) {
            List<ObjectNode> mine = results.stream().filter(r -> r.path("kv_spec").asText().equals(p.spec())).toList();
            double s = Summary.mean(mine, r -> "all", "string_match").getOrDefault("all", Double.NaN);
            long truncated = mine.stream().filter(r -> r.path("truncated").asBoolean()).count();
            ObjectNode n = per.putObject(p.spec());
            n.put("string_match", s);
            n.put("examples", mine.size());
            n.put("truncated", truncated);
            rows.add(List.of(p.spec(), Report.pct(s), String.valueOf(mine.size()), String.valueOf(truncated)));
        }
        report.paragraph("Data: " + data + ". Prompts longer than the context are cut in the middle (column 'truncated').");
        report.table(List.of("kv", "string match %", "examples", "truncated"), rows);
        // one bar group per task file (RULER files hold one task each), one bar per setting
        String taskName = data.getFileName().toString().replaceFirst("\\.jsonl$", "");
        java.util.Map<String, double[]> bars = new java.util.LinkedHashMap<>();
        for (KvPolicy p : policies) {
            bars.put(p.spec(), new double[] {100 * per.path(p.spec()).path("string_match").asDouble(Double.NaN)});
        }
        report.image("string match by setting", dir, Charts.bars(dir.resolve("ruler.png"), "RULER string match", "task",
                "string match (%)", List.of(taskName), bars, 0.0, 100.0));
        return summary;
    }
}
