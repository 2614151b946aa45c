package dev.think4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.eval.Charts;
import dev.think4j.eval.Documents;
import dev.think4j.eval.Example;
import dev.think4j.eval.RecallTask;
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

/** think4j eval recall: in-domain fact retrieval, every setting next to the full cache. */
@Command(name = "recall", mixinStandardHelpOptions = true,
        description = "Hide a name+fact sentence in TinyStories text and ask for it; full-cache accuracy is always reported.")
public final class EvalRecallCommand extends GenerationEvalCommand {
    @Option(names = "--text", required = true, paramLabel = "FILE", description = "stories file (e.g. tinystories_val_500.txt)")
    Path text;

    @Option(names = "--separator", defaultValue = "<|endoftext|>", paramLabel = "TEXT", description = "story separator (default: ${DEFAULT-VALUE})")
    String separator;

    @Option(names = "--context-tokens", defaultValue = "256", paramLabel = "N", description = "filler tokens per prompt (default: ${DEFAULT-VALUE})")
    int contextTokens;

    @Option(names = "--depths", split = ",", defaultValue = "10,50,90", paramLabel = "PCT", description = "needle depths (default: ${DEFAULT-VALUE})")
    List<Double> depths;

    @Option(names = "--examples", defaultValue = "5", paramLabel = "N", description = "facts per depth (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "seed choosing names and facts (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--max-new-tokens", defaultValue = "6", paramLabel = "N", description = "answer budget (default: ${DEFAULT-VALUE})")
    int maxNew;

    @Override
    String task() {
        return "recall";
    }

    @Override
    boolean withBaseline() {
        return true;
    }

    @Override
    List<Example> examples(Tokenizer tokenizer, int contextLength) {
        if (count < 1) {
            throw new dev.think4j.Think4jException("--examples must be >= 1, got " + count);
        }
        if (contextTokens + 32 + maxNew > contextLength) {
            throw new dev.think4j.Think4jException("--context-tokens " + contextTokens + " plus cue and answer exceeds the context of "
                    + contextLength + " tokens");
        }
        return RecallTask.examples(tokenizer, Documents.read(text, separator, 0), contextTokens, depths, count, seed, maxNew);
    }

    @Override
    ObjectNode summarize(List<ObjectNode> results, List<KvPolicy> policies, Path dir, Report report) {
        ObjectNode summary = object();
        ObjectNode per = summary.putObject("settings");
        Map<String, Double> acc = Summary.mean(results, r -> r.path("kv_spec").asText(), "accuracy");
        double full = acc.getOrDefault("full", Double.NaN);
        List<List<String>> rows = new ArrayList<>();
        List<Charts.Series> series = new ArrayList<>();
        for (KvPolicy p : policies) {
            List<ObjectNode> mine = results.stream().filter(r -> r.path("kv_spec").asText().equals(p.spec())).toList();
            Map<String, Double> byDepth = Summary.mean(mine, r -> String.valueOf(r.path("depth_percent").asDouble()), "accuracy");
            double a = acc.getOrDefault(p.spec(), Double.NaN);
            double bytes = Summary.meanOf(mine, "kv_bytes");
            ObjectNode n = per.putObject(p.spec());
            n.put("accuracy", a);
            n.put("full_cache_accuracy", full);
            n.put("kv_bytes", bytes);
            rows.add(List.of(p.spec(), Report.pct(a), Report.pct(full), Report.num(bytes)));
            series.add(new Charts.Series(p.spec(), depths.stream().mapToDouble(Double::doubleValue).toArray(),
                    depths.stream().mapToDouble(d -> byDepth.getOrDefault(String.valueOf(d), Double.NaN)).toArray()));
        }
        report.paragraph("Headroom = full-cache accuracy: a compressed setting cannot be judged on facts the model misses with the full cache.");
        report.table(List.of("kv", "accuracy %", "full cache %", "mean KV bytes"), rows);
        Path png = Charts.lines(dir.resolve("recall_by_depth.png"), "Recall accuracy by needle depth", "depth (%)", "accuracy", series, false,
                0.0, 1.0);
        report.image("accuracy by depth", dir, png);
        return summary;
    }
}
