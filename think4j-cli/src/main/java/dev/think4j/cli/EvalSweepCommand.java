package dev.think4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.eval.Charts;
import dev.think4j.eval.Documents;
import dev.think4j.eval.Pareto;
import dev.think4j.eval.Perplexity;
import dev.think4j.eval.PerplexityResult;
import dev.think4j.eval.Report;
import dev.think4j.eval.ResultLog;
import dev.think4j.eval.SweepGrid;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** think4j eval sweep: perplexity/KL over a grid of cache settings, with a memory/quality Pareto chart. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Run 'eval ppl --compress-after' for a grid of --kv specs; writes sweep.csv and a Pareto chart.")
public final class EvalSweepCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "PATH", description = "GGUF model file (default: the bundled model)")
    Path model;

    @Option(names = "--check-tensors", description = "at load, scan every weight for NaN or infinite values and name "
            + "the first bad tensor (reads the whole file; as llama.cpp's --check-tensors)")
    boolean checkTensors;

    @Option(names = {"--spec", "--kv"}, split = ";", paramLabel = "SPEC", description = "explicit specs (repeat or separate by ';')")
    List<String> specs = new ArrayList<>();

    @Option(names = "--methods", split = ",", paramLabel = "NAME", description = "eviction methods for the grid, 'none' for no eviction")
    List<String> methods = new ArrayList<>();

    @Option(names = "--budgets", split = ",", paramLabel = "N", description = "eviction token budgets")
    List<Integer> budgets = new ArrayList<>();

    @Option(names = "--lambdas", split = ",", paramLabel = "R", description = "channel pruning ratios (0 = none)")
    List<Double> lambdas = new ArrayList<>();

    @Option(names = "--prune-method", defaultValue = "think", paramLabel = "NAME", description = "think or keynorm (default: ${DEFAULT-VALUE})")
    String pruneMethod;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "text file of documents")
    Path text;

    @Option(names = "--separator", defaultValue = "<|endoftext|>", paramLabel = "TEXT", description = "document separator")
    String separator;

    @Option(names = "--max-docs", defaultValue = "20", paramLabel = "N", description = "documents (default: ${DEFAULT-VALUE})")
    int maxDocs;

    @Option(names = "--compress-after", defaultValue = "0.5", paramLabel = "F", description = "compression point (default: ${DEFAULT-VALUE})")
    double compressAfter;

    @Option(names = "--chunk", defaultValue = "64", paramLabel = "N", description = "prefill chunk size")
    int chunk;

    @Option(names = "--json", description = "print the summary as one JSON line")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "results folder (default: eval-out/sweep)")
    Path out;

    @Override
    public Integer call() {
        if (!(compressAfter > 0 && compressAfter < 1)) {
            throw new Think4jException("--compress-after must be in (0, 1), got " + compressAfter);
        }
        if (!pruneMethod.equals("think") && !pruneMethod.equals("keynorm")) {
            throw new Think4jException("--prune-method must be think or keynorm, got " + pruneMethod);
        }
        List<KvPolicy> policies = new ArrayList<>();
        for (String s : SweepGrid.specs(specs, methods, budgets, lambdas, pruneMethod)) {
            KvPolicy p = KvSpec.parse(s);
            if (policies.stream().noneMatch(o -> o.spec().equals(p.spec()))) {
                policies.add(p);
            }
        }
        List<String> docs = Documents.read(text, separator, maxDocs);
        Path dir = out != null ? out : Path.of("eval-out", "sweep");
        PrintWriter o = spec.commandLine().getOut();
        List<ObjectNode> rows = new ArrayList<>();
        try (Model m = Model.load(model != null ? model : DefaultModel.path(), checkTensors); ResultLog log = new ResultLog(dir)) {
            Perplexity ppl = new Perplexity(m, Tokenizer.fromGguf(m.gguf()), chunk);
            Progress progress = new Progress(spec.commandLine().getErr(), "sweep", policies.size(), true);
            int done = 0;
            for (KvPolicy p : policies) {
                String key = p.spec() + "|docs=" + docs.size() + "|after=" + compressAfter;
                if (!log.isDone(key)) {
                    PerplexityResult r = ppl.run(docs, p, compressAfter, null);
                    ObjectNode n = GenerationEvalCommand.object();
                    n.put("task", "sweep").put("kv_spec", p.spec()).put("documents", r.documents()).put("tokens", r.tokens());
                    n.put("kv_bytes", r.kvBytes()).put("kv_bytes_uncompressed", r.kvBytesUncompressed());
                    n.put("ratio", r.kvBytes() / r.kvBytesUncompressed()).put("perplexity", r.perplexity());
                    n.put("kl", Double.isNaN(r.klToFull()) ? 0 : r.klToFull());
                    log.append(key, n);
                }
                rows.add(log.get(key));
                progress.update(++done);
            }
        }
        writeCsv(dir.resolve("sweep.csv"), rows);
        List<Charts.Point> ppx = new ArrayList<>();
        List<Charts.Point> kl = new ArrayList<>();
        for (ObjectNode r : rows) {
            ppx.add(new Charts.Point(r.path("kv_spec").asText(), r.path("ratio").asDouble(), r.path("perplexity").asDouble()));
            kl.add(new Charts.Point(r.path("kv_spec").asText(), r.path("ratio").asDouble(), r.path("kl").asDouble()));
        }
        Report report = new Report("think4j eval sweep");
        report.bullet("documents", docs.size()).bullet("compress after", compressAfter).paragraph("");
        List<List<String>> table = new ArrayList<>();
        List<Charts.Point> front = Pareto.front(ppx);
        for (ObjectNode r : rows) {
            boolean onFront = front.stream().anyMatch(p -> p.label().equals(r.path("kv_spec").asText()));
            table.add(List.of(r.path("kv_spec").asText() + (onFront ? " *" : ""), Report.num(r.path("kv_bytes").asDouble()),
                    Report.num(r.path("ratio").asDouble()), Report.num(r.path("perplexity").asDouble()), Report.num(r.path("kl").asDouble())));
        }
        report.table(List.of("spec (* = Pareto)", "KV bytes", "ratio", "perplexity", "KL"), table);
        report.image("perplexity Pareto", dir, Charts.pareto(dir.resolve("pareto_perplexity.png"), "memory vs perplexity",
                "KV bytes / full cache bytes", "perplexity", ppx));
        report.image("KL Pareto", dir, Charts.pareto(dir.resolve("pareto_kl.png"), "memory vs KL to full cache",
                "KV bytes / full cache bytes", "KL (nats/token)", kl));
        report.write(dir);
        ObjectNode summary = GenerationEvalCommand.object();
        summary.put("task", "sweep");
        summary.set("rows", GenerationEvalCommand.object().arrayNode().addAll(rows));
        GenerationEvalCommand.writeJson(dir.resolve("summary.json"), summary);
        if (json) {
            o.println(summary);
        } else {
            o.print(report.markdown());
        }
        o.flush();
        return 0;
    }

    static void writeCsv(Path file, List<ObjectNode> rows) {
        StringBuilder sb = new StringBuilder("spec,kv_bytes,ratio,perplexity,kl\n");
        for (ObjectNode r : rows) {
            String s = r.path("kv_spec").asText();
            sb.append(s.contains(",") ? "\"" + s + "\"" : s).append(String.format(Locale.ROOT, ",%.1f,%.6f,%.6f,%.8f%n",
                    r.path("kv_bytes").asDouble(), r.path("ratio").asDouble(), r.path("perplexity").asDouble(), r.path("kl").asDouble()));
        }
        try {
            Files.writeString(file, sb);
        } catch (IOException e) {
            throw new Think4jException("cannot write " + file + ": " + e.getMessage());
        }
    }
}
