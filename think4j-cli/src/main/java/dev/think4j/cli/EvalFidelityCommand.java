package dev.think4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.eval.AttentionFidelity;
import dev.think4j.eval.Charts;
import dev.think4j.eval.Report;
import dev.think4j.eval.ResultLog;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** think4j eval fidelity: per-layer attention error of compressed caches against the full cache. */
@Command(name = "fidelity", mixinStandardHelpOptions = true,
        description = "Per layer: relative error of attention outputs and the logit loss ||QK^T - Q K_c^T||_F against the full cache.")
public final class EvalFidelityCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    EvalModelOptions modelOptions;

    @Mixin
    PromptInput input;

    @Option(names = "--probe", defaultValue = "16", paramLabel = "N",
            description = "last N prompt tokens are decoded after compression and measured (default: ${DEFAULT-VALUE})")
    int probe;

    @Option(names = "--json", description = "print the summary as one JSON line")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "results folder (default: eval-out/fidelity)")
    Path out;

    @Override
    public Integer call() {
        modelOptions.applyThreads();
        List<KvPolicy> policies = modelOptions.policies(false);
        if (policies.stream().anyMatch(KvPolicy::isNone)) {
            throw new Think4jException("fidelity compares compressed settings with the full cache; give --kv settings other than 'full'");
        }
        Path dir = out != null ? out : Path.of("eval-out", "fidelity");
        PrintWriter o = spec.commandLine().getOut();
        ObjectNode summary = GenerationEvalCommand.object();
        summary.put("task", "fidelity");
        ObjectNode per = summary.putObject("settings");
        Report report = new Report("think4j eval fidelity");
        List<Charts.Series> outSeries = new ArrayList<>();
        List<Charts.Series> logitSeries = new ArrayList<>();
        try (Model model = modelOptions.loadModel(); ResultLog log = new ResultLog(dir)) {
            Tokenizer tok = Tokenizer.fromGguf(model.gguf());
            int[] ids = tok.encode(input.text(), true, false);
            report.bullet("model", modelOptions.modelPath()).bullet("prompt tokens", ids.length).bullet("probe tokens", probe).paragraph("");
            Progress progress = new Progress(spec.commandLine().getErr(), "fidelity", policies.size(), true);
            int done = 0;
            List<List<String>> rows = new ArrayList<>();
            for (KvPolicy p : policies) {
                int layers = model.config().layers();
                if (!allDone(log, p, layers)) {
                    for (AttentionFidelity.Layer l : AttentionFidelity.measure(model, ids, p, probe, modelOptions.chunk)) {
                        ObjectNode n = GenerationEvalCommand.object();
                        n.put("task", "fidelity").put("kv_spec", p.spec()).put("layer", l.layer()).put("prompt_tokens", ids.length);
                        n.put("output_rel_error", l.outputRelError()).put("logit_loss", l.logitLoss())
                                .put("logit_rel_loss", l.logitRelLoss()).put("compared_heads", l.comparedHeads());
                        log.append(p.spec() + "|layer=" + l.layer(), n);
                    }
                }
                double[] x = new double[layers];
                double[] yo = new double[layers];
                double[] yl = new double[layers];
                ObjectNode ps = per.putObject(p.spec());
                for (int l = 0; l < layers; l++) {
                    ObjectNode n = log.get(p.spec() + "|layer=" + l);
                    x[l] = l;
                    yo[l] = n.path("output_rel_error").asDouble(Double.NaN);
                    yl[l] = n.path("logit_rel_loss").asDouble(Double.NaN);
                    rows.add(List.of(p.spec(), String.valueOf(l), Report.num(yo[l]), Report.num(n.path("logit_loss").asDouble(Double.NaN)),
                            Report.num(yl[l])));
                    ps.put("layer" + l + "_output_rel_error", yo[l]);
                    ps.put("layer" + l + "_logit_rel_loss", yl[l]);
                }
                outSeries.add(new Charts.Series(p.spec(), x, yo));
                logitSeries.add(new Charts.Series(p.spec(), x, yl));
                progress.update(++done);
            }
            report.table(List.of("kv", "layer", "attn output rel. error", "logit loss ||QK^T-QK_c^T||_F", "logit rel. loss"), rows);
            report.paragraph("Logit loss is n/a where eviction removed tokens (logits no longer pair up).");
            report.image("output error", dir, Charts.lines(dir.resolve("fidelity_output.png"), "Attention output relative error", "layer",
                    "||o - o_c|| / ||o||", outSeries, false));
            report.image("logit loss", dir, Charts.lines(dir.resolve("fidelity_logits.png"), "Attention logit relative loss", "layer",
                    "||QK^T - QK_c^T||_F / ||QK^T||_F", logitSeries, false));
        }
        report.write(dir);
        GenerationEvalCommand.writeJson(dir.resolve("summary.json"), summary);
        if (json) {
            o.println(summary);
        } else {
            o.print(report.markdown());
        }
        o.flush();
        return 0;
    }

    private static boolean allDone(ResultLog log, KvPolicy p, int layers) {
        for (int l = 0; l < layers; l++) {
            if (!log.isDone(p.spec() + "|layer=" + l)) {
                return false;
            }
        }
        return true;
    }
}
