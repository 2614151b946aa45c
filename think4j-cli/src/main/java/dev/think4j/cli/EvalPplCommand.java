package dev.think4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.eval.Charts;
import dev.think4j.eval.Documents;
import dev.think4j.eval.Perplexity;
import dev.think4j.eval.PerplexityResult;
import dev.think4j.eval.Report;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** think4j eval ppl: teacher-forced perplexity, and KL divergence to the full cache. */
@Command(name = "ppl", mixinStandardHelpOptions = true,
        description = "Perplexity (and KL to the full cache when --kv is given) over documents of a text file.")
public final class EvalPplCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "text file of documents")
    Path text;

    @Option(names = "--separator", defaultValue = "<|endoftext|>", paramLabel = "TEXT",
            description = "document separator (default: ${DEFAULT-VALUE})")
    String separator;

    @Option(names = "--max-docs", defaultValue = "0", paramLabel = "N", description = "use the first N documents (0 = all)")
    int maxDocs;

    @Option(names = "--compress-after", paramLabel = "F",
            description = "prefill and compress the first floor(len*F) tokens, score the rest teacher-forced")
    Double compressAfter;

    @Option(names = "--json", description = "print the result as one JSON line")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR",
            description = "results folder: result.json, report.md and per-document charts (default: eval-out/ppl)")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (compressAfter != null && !(compressAfter > 0 && compressAfter < 1)) {
            throw new Think4jException("--compress-after must be in (0, 1), got " + compressAfter);
        }
        if (maxDocs < 0) {
            throw new Think4jException("--max-docs must be >= 0, got " + maxDocs);
        }
        modelOptions.applyThreads();
        KvPolicy policy = modelOptions.policy();
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> docs = Documents.read(text, separator, maxDocs);
        if (!policy.isNone() && compressAfter == null) {
            err.println("note: without --compress-after the cache is never compressed before scoring; --kv " + policy.spec()
                    + " has no effect on this perplexity");
        }
        try (Model model = modelOptions.loadModel()) {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.gguf());
            Perplexity ppl = new Perplexity(model, tokenizer, modelOptions.chunk);
            Progress progress = new Progress(err, "ppl " + policy.spec(), docs.size(), true);
            List<Perplexity.DocumentScore> perDoc = new java.util.ArrayList<>();
            PerplexityResult r = ppl.run(docs, policy, compressAfter, d -> progress.update(d + 1), perDoc::add);
            ObjectNode n = toJson(r, compressAfter, modelOptions.modelPath(), text);
            Path dir = out != null ? out : Path.of("eval-out", "ppl");
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("result.json"), n.toPrettyString());
            Path report = report(r, perDoc, dir).write(dir);
            if (!json) {
                err.println("report: " + report);
            }
            if (json) {
                o.println(n);
            } else {
                o.printf(Locale.ROOT, "perplexity %.4f  mean NLL %.5f nats  over %d tokens of %d documents%n",
                        r.perplexity(), r.meanNll(), r.tokens(), r.documents());
                if (!Double.isNaN(r.klToFull())) {
                    o.printf(Locale.ROOT, "KL to full cache %.6f nats/token; KV bytes after compression %.0f (full %.0f, %.1f%%)%n",
                            r.klToFull(), r.kvBytes(), r.kvBytesUncompressed(), 100 * r.kvBytes() / r.kvBytesUncompressed());
                }
            }
            o.flush();
        }
        return 0;
    }

    /** report.md: the figures, and per-document perplexity (and KL) charts that show which documents suffer. */
    private Report report(PerplexityResult r, List<Perplexity.DocumentScore> perDoc, Path dir) {
        Report report = new Report("think4j eval ppl");
        report.bullet("model", modelOptions.modelPath()).bullet("text", text).bullet("--kv", r.spec())
                .bullet("compress after", compressAfter == null ? "none (the whole document is prefilled, then scored)"
                        : compressAfter + " of each document, the rest scored one token at a time")
                .bullet("documents", r.documents()).bullet("scored tokens", r.tokens()).paragraph("");
        List<String> header = new java.util.ArrayList<>(List.of("kv", "perplexity", "mean NLL (nats)"));
        List<String> row = new java.util.ArrayList<>(List.of(r.spec(), Report.num(r.perplexity()), Report.num(r.meanNll())));
        if (!Double.isNaN(r.klToFull())) {
            header.addAll(List.of("KL to full (nats/token)", "KV bytes at compression", "% of full"));
            row.addAll(List.of(Report.num(r.klToFull()), Report.num(r.kvBytes()), Report.pct(r.kvBytes() / r.kvBytesUncompressed())));
        }
        report.table(header, List.of(row));
        double[] x = perDoc.stream().mapToDouble(d -> d.index() + 1).toArray();
        report.image("perplexity per document", dir, Charts.lines(dir.resolve("ppl_by_document.png"),
                "Perplexity per document, --kv " + r.spec(), "document", "perplexity",
                List.of(new Charts.Series(r.spec(), x, perDoc.stream().mapToDouble(Perplexity.DocumentScore::perplexity).toArray())),
                false, 0.0, null));
        if (!Double.isNaN(r.klToFull())) {
            report.image("KL per document", dir, Charts.lines(dir.resolve("kl_by_document.png"),
                    "KL divergence to the full cache per document, --kv " + r.spec(), "document", "KL (nats/token)",
                    List.of(new Charts.Series(r.spec(), x, perDoc.stream().mapToDouble(Perplexity.DocumentScore::meanKl).toArray())),
                    false, 0.0, null));
        }
        return report;
    }

    static ObjectNode toJson(PerplexityResult r, Double compressAfter, Path model, Path text) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("task", "ppl");
        n.put("model", model.toString());
        n.put("text", text.toString());
        n.put("kv_spec", r.spec());
        if (compressAfter != null) {
            n.put("compress_after", compressAfter);
        } else {
            n.putNull("compress_after");
        }
        n.put("documents", r.documents());
        n.put("tokens", r.tokens());
        n.put("mean_nll", r.meanNll());
        n.put("perplexity", r.perplexity());
        if (Double.isNaN(r.klToFull())) {
            n.putNull("kl_to_full");
        } else {
            n.put("kl_to_full", r.klToFull());
        }
        n.put("kv_bytes", r.kvBytes());
        n.put("kv_bytes_uncompressed", r.kvBytesUncompressed());
        n.put("kv_bytes_end", r.kvBytesEnd());
        n.put("kv_bytes_end_uncompressed", r.kvBytesEndUncompressed());
        return n;
    }
}
