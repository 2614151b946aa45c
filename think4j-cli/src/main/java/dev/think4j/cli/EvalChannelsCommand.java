package dev.think4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.eval.ChannelStats;
import dev.think4j.eval.Charts;
import dev.think4j.eval.Report;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** think4j eval channels: key-magnitude heatmaps and window-logit singular spectra, as PNGs. */
@Command(name = "channels", mixinStandardHelpOptions = true,
        description = "Per layer: |key| heatmap (x = channel, y = token) and the singular-value spectrum of the window logits Q K^T.")
public final class EvalChannelsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    EvalModelOptions modelOptions;

    @Mixin
    PromptInput input;

    @Option(names = "--window", defaultValue = "32", paramLabel = "N",
            description = "observation window (last N prompt queries) for the spectrum when --kv records none (default: ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--max-rows", defaultValue = "64", paramLabel = "N", description = "token rows per heatmap; longer prompts are pooled")
    int maxRows;

    @Option(names = "--json", description = "print the summary as one JSON line")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "results folder (default: eval-out/channels)")
    Path out;

    @Override
    public Integer call() {
        modelOptions.applyThreads();
        if (window < 1 || maxRows < 1) {
            throw new Think4jException("--window and --max-rows must be >= 1");
        }
        KvPolicy given = modelOptions.single();
        // the cache is only prefilled, never compressed: the policy just decides which window is recorded
        KvPolicy policy = given.window() > 0 ? given : KvSpec.parse("think:0,window=" + window);
        Path dir = out != null ? out : Path.of("eval-out", "channels");
        Report report = new Report("think4j eval channels");
        ObjectNode summary = GenerationEvalCommand.object();
        summary.put("task", "channels");
        try (Model model = modelOptions.loadModel()) {
            Tokenizer tok = Tokenizer.fromGguf(model.gguf());
            int[] ids = tok.encode(input.text(), true, false);
            if (ids.length > model.config().contextLength()) {
                throw new Think4jException("the prompt has " + ids.length + " tokens but the context is " + model.config().contextLength());
            }
            CompressedKvCache cache = model.newCache(policy);
            model.newTransformer(modelOptions.chunk).forward(ids, 0, ids.length, cache, null, null);
            double[][][] mag = ChannelStats.keyMagnitudes(cache);
            int layers = mag.length;
            int d = cache.shape().headDim();
            int kvd = cache.shape().kvDim();
            List<String> channels = IntStream.range(0, kvd).mapToObj(c -> c % d == 0 ? "h" + c / d + ":" + c % d : String.valueOf(c % d)).toList();
            report.bullet("model", modelOptions.modelPath()).bullet("prompt tokens", ids.length).bullet("window", policy.window()).paragraph("");
            double[][] perHead = new double[layers * cache.shape().kvHeads()][d];
            List<String> headLabels = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                double[] mean = ChannelStats.columnMeans(mag[l]);
                for (int g = 0; g < cache.shape().kvHeads(); g++) {
                    System.arraycopy(mean, g * d, perHead[l * cache.shape().kvHeads() + g], 0, d);
                    headLabels.add("L" + l + "h" + g);
                }
            }
            report.heading("Mean |key| per channel and KV head");
            report.image("mean key magnitude", dir, Charts.heatmap(dir.resolve("channels_heads.png"), "mean |k| per channel", "channel",
                    "layer / KV head", "mean |key| over tokens", IntStream.range(0, d).mapToObj(String::valueOf).toList(), headLabels, perHead, false));
            report.heading("|key| per token, by layer");
            for (int l = 0; l < layers; l++) {
                final int layer = l;
                double[][] pooled = ChannelStats.poolRows(mag[l], maxRows);
                List<String> rows = IntStream.range(0, pooled.length).mapToObj(r -> String.valueOf((long) r * mag[layer].length / pooled.length))
                        .toList();
                report.image("layer " + l, dir, Charts.heatmap(dir.resolve("channels_layer" + l + ".png"), "|k| layer " + l, "KV head:channel",
                        "token", "|key|, averaged over the tokens of a row", channels, rows, pooled, false));
            }
            List<Charts.Series> spectra = new ArrayList<>();
            ObjectNode sp = summary.putObject("spectrum");
            for (int l = 0; l < layers; l++) {
                double[] sv = ChannelStats.logitSpectrum(cache, l);
                spectra.add(new Charts.Series("layer " + l, IntStream.range(0, sv.length).mapToDouble(i -> i + 1).toArray(),
                        java.util.Arrays.stream(sv).map(v -> Math.max(v, 1e-8)).toArray()));
                com.fasterxml.jackson.databind.node.ArrayNode arr = sp.putArray("layer" + l);
                for (double v : sv) {
                    arr.add(v);
                }
            }
            report.heading("Singular values of the window logits Q_win K^T (normalized, mean over heads)");
            report.paragraph("Rank is at most the head dimension " + d + "; fast decay means few key channels carry the logits.");
            report.image("spectrum", dir, Charts.lines(dir.resolve("spectrum.png"), "singular values of Q_win K^T", "index",
                    "sigma_i / sigma_1", spectra, true));
        }
        report.write(dir);
        GenerationEvalCommand.writeJson(dir.resolve("summary.json"), summary);
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            o.println(summary);
        } else {
            o.print(report.markdown());
        }
        o.flush();
        return 0;
    }
}
