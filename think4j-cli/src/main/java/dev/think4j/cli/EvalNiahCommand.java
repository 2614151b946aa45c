package dev.think4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.eval.Charts;
import dev.think4j.eval.Example;
import dev.think4j.eval.Needle;
import dev.think4j.Think4jException;
import dev.think4j.eval.NiahTask;
import dev.think4j.eval.RulerNiahTask;
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

/** think4j eval niah: needle-in-a-haystack grid with the familiar heatmap. */
@Command(name = "niah", mixinStandardHelpOptions = true,
        description = "Needle in a haystack: context lengths x needle depths over a folder of .txt essays.")
public final class EvalNiahCommand extends GenerationEvalCommand {
    @Option(names = "--haystack", required = true, paramLabel = "DIR", description = "folder of .txt files used as filler")
    Path haystack;

    @Option(names = "--needle", paramLabel = "TEXT", description = "needle sentence (default: the San Francisco sandwich needle)")
    String needle = Needle.STANDARD;

    @Option(names = "--question", paramLabel = "TEXT", description = "question asking for the needle")
    String question = Needle.STANDARD_QUESTION;

    @Option(names = "--keywords", split = ",", paramLabel = "WORD", description = "key words the answer must contain (default: derived from the needle)")
    List<String> keywords = new ArrayList<>();

    @Option(names = "--lengths", split = ",", paramLabel = "N", description = "prompt lengths in tokens (default: ${DEFAULT-VALUE})",
            defaultValue = "256,512,1024")
    List<Integer> lengths;

    @Option(names = "--depths", split = ",", paramLabel = "PCT", description = "needle depths in percent (default: ${DEFAULT-VALUE})",
            defaultValue = "0,25,50,75,100")
    List<Double> depths;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "32", description = "answer budget (default: ${DEFAULT-VALUE})")
    int maxNew;

    @Option(names = "--format", paramLabel = "F", defaultValue = "essay",
            description = "essay: --needle/--question, key-word score; ruler: RULER niah_single wording, a 7-digit magic number "
                    + "per key word, score 1 when the answer contains it (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--needles", paramLabel = "N", defaultValue = "1",
            description = "ruler: needles per prompt, one asked (niah_multikey with N > 1) (default: ${DEFAULT-VALUE})")
    int needles;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "1",
            description = "ruler: prompts per (length, depth) cell, each with its own keys and numbers (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "ruler: seed of keys and numbers (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    String task() {
        return "niah";
    }

    @Override
    List<Example> examples(Tokenizer tokenizer, int contextLength) {
        if (format.equals("ruler")) {
            return RulerNiahTask.examples(tokenizer, NiahTask.haystack(haystack), lengths, depths, needles, samples, seed, maxNew,
                    contextLength);
        }
        if (!format.equals("essay")) {
            throw new Think4jException("--format must be essay or ruler, got '" + format + "'");
        }
        return NiahTask.examples(tokenizer, NiahTask.haystack(haystack), Needle.of(needle, question, keywords), lengths, depths, maxNew,
                contextLength);
    }

    @Override
    ObjectNode summarize(List<ObjectNode> results, List<KvPolicy> policies, Path dir, Report report) {
        ObjectNode summary = object();
        ObjectNode per = summary.putObject("settings");
        List<List<String>> rows = new ArrayList<>();
        List<Charts.Point> misses = new ArrayList<>();
        List<String> xs = lengths.stream().map(String::valueOf).toList();
        // depth 0 (top of the document) drawn at the top, as in the familiar chart
        List<String> ys = depths.reversed().stream().map(NiahTaskFormat::pct).toList();
        for (int i = 0; i < policies.size(); i++) {
            String s = policies.get(i).spec();
            List<ObjectNode> mine = results.stream().filter(r -> r.path("kv_spec").asText().equals(s)).toList();
            Map<String, Double> cell = Summary.mean(mine, r -> r.path("context_length").asInt() + "|" + r.path("depth_percent").asDouble(), "score");
            double[][] grid = new double[depths.size()][lengths.size()];
            for (int y = 0; y < depths.size(); y++) {
                for (int x = 0; x < lengths.size(); x++) {
                    grid[depths.size() - 1 - y][x] = cell.getOrDefault(lengths.get(x) + "|" + depths.get(y), Double.NaN);
                }
            }
            double score = Summary.mean(mine, r -> "all", "score").getOrDefault("all", Double.NaN);
            double rouge = Summary.mean(mine, r -> "all", "rouge_l").getOrDefault("all", Double.NaN);
            ObjectNode n = per.putObject(s);
            n.put("score", score);
            n.put("rouge_l", rouge);
            n.put("kv_bytes", Summary.meanOf(mine, "kv_bytes"));
            Path png = Charts.heatmap(dir.resolve("niah_" + i + ".png"), "NIAH " + s, "context length (tokens)", "needle depth (%)",
                    "key-word score, 0 to 1",
                    xs, ys, grid, true);
            report.heading("--kv " + s).image("NIAH heatmap " + s, dir, png);
            rows.add(List.of(s, Report.num(score), Report.num(rouge), Report.num(Summary.meanOf(mine, "kv_bytes"))));
            misses.add(new Charts.Point(s, Summary.meanOf(mine, "kv_bytes") / 1024, 1 - score));
        }
        report.heading("Summary").table(List.of("kv", "key-word score", "ROUGE-L", "mean KV bytes"), rows);
        if (policies.size() > 1) {
            // both axes lower-is-better, so the front is the cheapest cache for each miss rate
            report.image("accuracy against KV bytes", dir, Charts.pareto(dir.resolve("niah_pareto.png"), "NIAH: misses against KV memory",
                    "mean KV bytes per prompt (KiB)", "miss rate (1 - score)", misses));
        }
        return summary;
    }

    /** Depth labels without a trailing ".0". */
    static final class NiahTaskFormat {
        static String pct(double d) {
            return (d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d));
        }
    }
}
