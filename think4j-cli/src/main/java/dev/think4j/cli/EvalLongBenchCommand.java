package dev.think4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.eval.Charts;
import dev.think4j.eval.Example;
import dev.think4j.eval.LongBenchDataset;
import dev.think4j.eval.LongBenchTask;
import dev.think4j.eval.Report;
import dev.think4j.eval.Summary;
import dev.think4j.kv.KvPolicy;
import dev.think4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** think4j eval longbench: LongBench v1 files with the official templates, truncation and metrics. */
@Command(name = "longbench", mixinStandardHelpOptions = true,
        description = "LongBench v1 jsonl files (one per dataset); per-dataset scores and their average.")
public final class EvalLongBenchCommand extends GenerationEvalCommand {
    @Option(names = "--data", required = true, split = ",", paramLabel = "FILE", description = "LongBench jsonl file(s)")
    List<Path> data;

    @Option(names = "--max-examples", defaultValue = "0", paramLabel = "N", description = "first N examples per file (0 = all)")
    int maxExamples;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "override the dataset's official answer budget")
    Integer maxNew;

    @Override
    String task() {
        return "longbench";
    }

    @Override
    List<Example> examples(Tokenizer tokenizer, int contextLength) {
        List<Example> all = new ArrayList<>();
        for (Path f : data) {
            all.addAll(LongBenchTask.examples(f, maxExamples, maxNew));
        }
        return all;
    }

    @Override
    ObjectNode summarize(List<ObjectNode> results, List<KvPolicy> policies, Path dir, Report report) {
        ObjectNode summary = object();
        ObjectNode per = summary.putObject("settings");
        List<String> datasets = Summary.distinct(results, "dataset");
        List<String> header = new ArrayList<>(List.of("kv"));
        datasets.forEach(d -> header.add(d + " (" + LongBenchDataset.of(d).metric().name().toLowerCase() + ")"));
        header.add("average");
        List<List<String>> rows = new ArrayList<>();
        for (KvPolicy p : policies) {
            List<ObjectNode> mine = results.stream().filter(r -> r.path("kv_spec").asText().equals(p.spec())).toList();
            Map<String, Double> byDs = Summary.mean(mine, r -> r.path("dataset").asText(), "score");
            ObjectNode n = per.putObject(p.spec());
            List<String> row = new ArrayList<>(List.of(p.spec()));
            double sum = 0;
            for (String d : datasets) {
                double v = byDs.getOrDefault(d, Double.NaN);
                n.put(d, 100 * v);
                row.add(Report.pct(v));
                sum += v;
            }
            double avg = datasets.isEmpty() ? Double.NaN : sum / datasets.size();
            n.put("average", 100 * avg);
            row.add(Report.pct(avg));
            rows.add(row);
        }
        report.paragraph("Scores x100, the LongBench convention; prompts are middle-truncated to the context minus the answer budget.");
        report.table(header, rows);
        List<String> groups = new ArrayList<>(datasets);
        groups.add("average");
        Map<String, double[]> bars = new java.util.LinkedHashMap<>();
        for (KvPolicy p : policies) {
            bars.put(p.spec(), groups.stream().mapToDouble(g -> per.path(p.spec()).path(g).asDouble(Double.NaN)).toArray());
        }
        report.image("scores by dataset", dir, Charts.bars(dir.resolve("longbench.png"), "LongBench scores", "dataset",
                "score (x100)", groups, bars, 0.0, 100.0));
        return summary;
    }
}
