package dev.think4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufTensorInfo;
import dev.think4j.model.ModelConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** think4j inspect: what a GGUF file holds, and what its KV cache costs per token. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a GGUF file's metadata, tensors, parameter count and KV bytes per token.")
public final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "PATH", description = "GGUF file (default: bundled stories260K)")
    Path model;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Option(names = "--all-metadata", description = "also list long metadata arrays (vocabularies) in full")
    boolean allMetadata;

    @Override
    public Integer call() {
        Path path = model != null ? model : DefaultModel.path();
        PrintWriter out = spec.commandLine().getOut();
        try (GgufFile gguf = GgufFile.open(path)) {
            int vocab = gguf.has("tokenizer.ggml.tokens") ? gguf.getStringArray("tokenizer.ggml.tokens").length : 0;
            ModelConfig c = ModelConfig.fromGguf(gguf, vocab);
            long params = 0;
            long weightBytes = 0;
            for (GgufTensorInfo t : gguf.tensorList()) {
                params += t.elementCount();
                weightBytes += t.byteSize();
            }
            long kvF32 = c.denseKvBytesPerToken();
            ObjectMapper m = new ObjectMapper();
            ObjectNode n = m.createObjectNode();
            n.put("file", path.toString());
            n.put("gguf_version", gguf.version());
            n.put("file_bytes", gguf.fileSize());
            n.put("architecture", c.architecture());
            n.put("parameters", params);
            n.put("weight_bytes", weightBytes);
            n.put("context_length", c.contextLength());
            n.put("dim", c.dim());
            n.put("layers", c.layers());
            n.put("heads", c.heads());
            n.put("kv_heads", c.kvHeads());
            n.put("head_dim", c.headDim());
            n.put("ffn_dim", c.hiddenDim());
            n.put("vocab", c.vocabSize());
            n.put("rope_theta", c.ropeTheta());
            n.put("rms_eps", c.rmsEps());
            n.put("kv_bytes_per_token_f32", kvF32);
            n.put("kv_bytes_per_token_f16", kvF32 / 2);
            ObjectNode md = n.putObject("metadata");
            for (Map.Entry<String, Object> e : gguf.metadata().entrySet()) {
                md.put(e.getKey(), describe(e.getValue(), allMetadata));
            }
            ArrayNode ts = n.putArray("tensors");
            for (GgufTensorInfo t : gguf.tensorList()) {
                ObjectNode tn = ts.addObject();
                tn.put("name", t.name());
                tn.put("type", t.type().name());
                tn.set("shape", m.valueToTree(t.shape()));
                tn.put("bytes", t.byteSize());
            }
            if (json) {
                out.println(n);
            } else {
                out.printf(Locale.ROOT, "%s  (GGUF v%d, %s)%n", path, gguf.version(), Bytes.human(gguf.fileSize()));
                out.printf(Locale.ROOT, "architecture %s: dim %d, %d layers, %d heads / %d KV heads x %d, FFN %d, vocab %d, context %d%n",
                        c.architecture(), c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.hiddenDim(), c.vocabSize(),
                        c.contextLength());
                out.printf(Locale.ROOT, "parameters %,d (%s), weights %s%n", params, parameterCount(params), Bytes.human(weightBytes));
                out.printf(Locale.ROOT, "KV cache per token: %s dense f32 (%s as f16); %s for the full %d-token context (f32)%n",
                        Bytes.human(kvF32), Bytes.human(kvF32 / 2), Bytes.human(kvF32 * c.contextLength()), c.contextLength());
                out.println("metadata:");
                for (Map.Entry<String, Object> e : gguf.metadata().entrySet()) {
                    out.printf("  %-45s %s%n", e.getKey(), describe(e.getValue(), allMetadata));
                }
                out.println("tensors:");
                for (GgufTensorInfo t : gguf.tensorList()) {
                    out.printf(Locale.ROOT, "  %-32s %-6s %-20s %s%n", t.name(), t.type(), Arrays.toString(t.shape()), Bytes.human(t.byteSize()));
                }
            }
            out.flush();
        }
        return 0;
    }

    /** A parameter count as models are named: 292.8K, 15.0M, 1.24B. */
    static String parameterCount(long n) {
        if (n < 1000) {
            return String.valueOf(n);
        }
        String[] units = {"K", "M", "B", "T"};
        double v = n;
        int u = -1;
        while (v >= 999.95 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, v < 10 && u >= 2 ? "%.2f%s" : "%.1f%s", v, units[u]);
    }

    private static String describe(Object v, boolean all) {
        if (v == null) {
            return "null";
        }
        if (!v.getClass().isArray()) {
            String s = v.toString();
            return all || s.length() <= 120 ? s : s.substring(0, 117) + "...";
        }
        int n = java.lang.reflect.Array.getLength(v);
        StringBuilder sb = new StringBuilder("[");
        int show = all ? n : Math.min(n, 8);
        for (int i = 0; i < show; i++) {
            Object item = java.lang.reflect.Array.get(v, i);
            sb.append(i > 0 ? ", " : "").append(item != null && item.getClass().isArray() ? "[...]" : String.valueOf(item));
        }
        if (show < n) {
            sb.append(", ... (").append(n).append(" items)");
        }
        return sb.append(']').toString();
    }
}
