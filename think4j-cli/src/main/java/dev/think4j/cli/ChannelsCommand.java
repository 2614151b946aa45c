package dev.think4j.cli;

import dev.think4j.Think4jException;
import dev.think4j.kv.ChannelReport;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** think4j channels: which key channels ThinK keeps for a prompt, with every channel's score. */
@Command(name = "channels", mixinStandardHelpOptions = true,
        description = "Prefill a prompt and show, per layer and KV head, the kept key channels and all channel scores.")
public final class ChannelsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the prompt")
    String prompt;

    @Option(names = {"-f", "--prompt-file"}, paramLabel = "FILE", description = "read the prompt from a UTF-8 text file")
    java.nio.file.Path promptFile;

    @Option(names = "--json", description = "print {\"layers\":[{\"layer\":0,\"kv_heads\":[{\"kv_head\":0,\"kept\":[..],\"scores\":[..]}]}]}")
    boolean json;

    @Override
    public Integer call() {
        modelOptions.applyThreads();
        KvPolicy policy = modelOptions.policy();
        if (policy.isNone()) {
            throw new Think4jException("channels needs --kv with a pruning term, e.g. --kv think:0.5");
        }
        if ((prompt == null) == (promptFile == null)) {
            throw new Think4jException("give the prompt as --prompt TEXT or --prompt-file FILE (one of them)");
        }
        String text = prompt != null ? prompt : dev.think4j.eval.TextFiles.readUtf8(promptFile);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Model model = modelOptions.loadModel()) {
            Tokenizer tok = Tokenizer.fromGguf(model.gguf());
            int[] ids = tok.encode(text, true, false);
            int ctx = modelOptions.contextLength(model.config(), err);
            if (ids.length > ctx) {
                throw new Think4jException("prompt has " + ids.length + " tokens but the context is " + ctx + " tokens");
            }
            Notes.shortPrompt(err, policy, ids.length);
            CompressedKvCache cache = model.newCache(policy);
            model.newTransformer(modelOptions.chunk).forward(ids, 0, ids.length, cache, null, null);
            ChannelReport report = ChannelReport.of(cache);
            if (json) {
                out.println(report.toJson());
            } else {
                out.printf("%d prompt tokens, --kv %s%n", ids.length, policy.spec());
                for (ChannelReport.LayerEntry l : report.layers()) {
                    for (ChannelReport.HeadEntry h : l.kvHeads()) {
                        out.printf(Locale.ROOT, "layer %2d kv head %2d kept %s%n   scores %s%n", l.layer(), h.kvHead(),
                                Arrays.toString(h.kept()), Arrays.toString(Arrays.stream(h.scores())
                                        .mapToObj(v -> String.format(Locale.ROOT, "%.3g", v)).toArray()));
                    }
                }
            }
            out.flush();
        }
        return 0;
    }
}
