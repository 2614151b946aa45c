package dev.think4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.eval.Example;
import dev.think4j.eval.GenerationRunner;
import dev.think4j.eval.Report;
import dev.think4j.eval.ResultLog;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Shared flow of the generation tasks: build examples, run every (setting, example) pair with resume
 * from --out/results.jsonl, then summarize everything in the log into summary.json and report.md.
 */
abstract class GenerationEvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    EvalModelOptions modelOptions;

    @Option(names = "--json", description = "print the summary as one JSON line")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR",
            description = "results folder: results.jsonl (resumable), summary.json, report.md, charts (default: eval-out/<task>)")
    Path out;

    abstract String task();

    /** Compare against the full cache even when --kv does not list it. */
    boolean withBaseline() {
        return false;
    }

    abstract List<Example> examples(Tokenizer tokenizer, int contextLength);

    /** Adds task-specific tables and charts; returns the summary object printed with --json. */
    abstract ObjectNode summarize(List<ObjectNode> results, List<KvPolicy> policies, Path dir, Report report);

    Path outDir() {
        return out != null ? out : Path.of("eval-out", task());
    }

    @Override
    public Integer call() {
        modelOptions.applyThreads();
        List<KvPolicy> policies = modelOptions.policies(withBaseline());
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter o = spec.commandLine().getOut();
        Path dir = outDir();
        try (Model model = modelOptions.loadModel()) {
            Tokenizer tok = Tokenizer.fromGguf(model.gguf());
            int ctx = modelOptions.contextLength(model.config().contextLength());
            List<Example> examples = examples(tok, ctx);
            try (ResultLog log = new ResultLog(dir)) {
                int before = log.size();
                Progress progress = new Progress(err, task(), policies.size() * examples.size(), true);
                new GenerationRunner(model, tok, modelOptions.chunk, ctx).run(policies, examples, task(), log, progress::update);
                List<ObjectNode> current = currentResults(log, policies, examples);
                Report report = new Report("think4j eval " + task());
                report.bullet("model", modelOptions.modelPath()).bullet("KV settings", policies.stream().map(KvPolicy::spec).toList())
                        .bullet("examples", examples.size()).bullet("results", log.file().getFileName() + " (" + (log.size() - before)
                                + " new, " + before + " resumed)").paragraph("");
                ObjectNode summary = summarize(current, policies, dir, report);
                summary.put("task", task());
                summary.put("model", modelOptions.modelPath().toString());
                report.write(dir);
                writeJson(dir.resolve("summary.json"), summary);
                if (json) {
                    o.println(summary);
                } else {
                    o.print(report.markdown());
                    o.println("report: " + dir.resolve("report.md"));
                }
                o.flush();
            }
        }
        return 0;
    }

    /** Only this run's grid: a log may also hold pairs from earlier runs with other options. */
    static List<ObjectNode> currentResults(ResultLog log, List<KvPolicy> policies, List<Example> examples) {
        Map<String, ObjectNode> m = new LinkedHashMap<>();
        for (KvPolicy p : policies) {
            for (Example e : examples) {
                String k = GenerationRunner.key(p, e);
                if (log.isDone(k)) {
                    m.put(k, log.get(k));
                }
            }
        }
        return List.copyOf(m.values());
    }

    static void writeJson(Path file, ObjectNode n) {
        try {
            java.nio.file.Files.writeString(file, n.toPrettyString());
        } catch (java.io.IOException e) {
            throw new dev.think4j.Think4jException("cannot write " + file + ": " + e.getMessage());
        }
    }

    static ObjectNode object() {
        return new ObjectMapper().createObjectNode();
    }
}
