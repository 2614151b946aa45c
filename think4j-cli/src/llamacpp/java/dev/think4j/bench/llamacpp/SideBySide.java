package dev.think4j.bench.llamacpp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import de.kherud.llama.args.CacheType;
import dev.think4j.Think4jException;
import dev.think4j.bench.Bench;
import dev.think4j.bench.BenchResult;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.model.ModelConfig;
import dev.think4j.tensor.Parallel;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * think4j and llama.cpp side by side on one GGUF: llama-bench style prefill (pp) and decode (tg)
 * tokens/s at each depth, think4j per --kv spec and llama.cpp per KV cache type, with the same thread
 * count. llama.cpp runs in-process through de.kherud:llama; this class is only built by the
 * {@code llamacpp} Maven profile and is not part of think4j's inference path.
 */
@Command(name = "think4j-vs-llamacpp", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Prefill and decode tokens/s of think4j (per --kv spec) and llama.cpp (per KV cache type) on the same GGUF.")
public final class SideBySide implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH", description = "GGUF model")
    Path model;

    @Option(names = "-p", defaultValue = "512", paramLabel = "N", description = "prefill tokens, 0 to skip (default: ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = "-n", defaultValue = "128", paramLabel = "N", description = "decode tokens, 0 to skip (default: ${DEFAULT-VALUE})")
    int gen;

    @Option(names = {"-d", "--depth"}, split = ",", defaultValue = "0", paramLabel = "LIST",
            description = "tokens cached before each test, comma list (default: ${DEFAULT-VALUE})")
    List<Integer> depths;

    @Option(names = "-r", defaultValue = "3", paramLabel = "N", description = "repetitions; medians are reported (default: ${DEFAULT-VALUE})")
    int repetitions;

    @Option(names = "-t", paramLabel = "N", description = "threads for both engines (default: all cores)")
    Integer threads;

    @Option(names = "--kv", split = ";", defaultValue = "full", paramLabel = "SPECS",
            description = "think4j KV specs separated by ';' (default: ${DEFAULT-VALUE})")
    List<String> kvSpecs;

    @Option(names = "--llama-kv", split = ",", defaultValue = "f16,q8_0,q4_0", paramLabel = "LIST",
            description = "llama.cpp KV cache types (cache_type_k = cache_type_v), comma list (default: ${DEFAULT-VALUE})")
    List<String> llamaKv;

    @Option(names = "--llama-fa", defaultValue = "auto", paramLabel = "auto|on|off",
            description = "llama.cpp flash attention: auto = only where the V cache is quantized, which needs it (default: ${DEFAULT-VALUE})")
    String flashAttn;

    @Option(names = "--chunk", defaultValue = "64", paramLabel = "N", description = "think4j prefill chunk (default: ${DEFAULT-VALUE})")
    int chunk;

    @Option(names = "--seed", defaultValue = "1", description = "token-id seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--no-warmup", description = "skip the untimed warm-up run of each engine")
    boolean noWarmup;

    @Option(names = "--interleave", description = "think4j decode: fill one cache per --kv spec, then alternate the specs' "
            + "repetitions, so that machine drift falls on all of them alike")
    boolean interleave;

    @Option(names = "--llama-verbose", description = "leave llama.cpp's console log on stderr instead of a file")
    boolean llamaVerbose;

    @Option(names = "--out", paramLabel = "DIR", description = "write side-by-side.md, side-by-side.json and llama.cpp logs into DIR")
    Path out;

    /** One row of the table: a test at a depth. */
    record Row(int depth, String test) {
    }

    public static void main(String[] args) {
        int code;
        try {
            code = new CommandLine(new SideBySide()).execute(args);
        } catch (Throwable t) {
            System.err.println("error: " + t);
            code = 1;
        }
        System.out.flush();
        System.err.flush();
        // llama.cpp's JNI worker threads are attached as non-daemon threads: exit explicitly
        System.exit(code);
    }

    @Override
    public Integer call() throws Exception {
        PrintStream err = System.err;
        if (!Files.isRegularFile(model)) {
            err.println("error: model file not found: " + model);
            return 2;
        }
        List<KvPolicy> policies = new ArrayList<>();
        List<CacheType> cacheTypes = new ArrayList<>();
        try {
            validate();
            for (String s : kvSpecs) {
                policies.add(KvSpec.parse(s.trim()));
            }
            for (String s : llamaKv) {
                cacheTypes.add(cacheType(s));
            }
        } catch (Think4jException | IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();

        // think4j
        Map<String, BenchResult> think = new LinkedHashMap<>();
        List<BenchResult> thinkResults = new ArrayList<>();
        ModelConfig config;
        Parallel.setThreads(t);
        try (Model m = Model.load(model)) {
            config = m.config();
            Bench bench = new Bench(m, chunk, seed);
            if (!noWarmup) {
                err.println("think4j warm-up");
                if (prompt > 0) {
                    bench.prefill(policies.get(0), 0, Math.min(prompt, 32), 1, t, line -> { });
                }
                if (gen > 0) {
                    bench.decode(policies.get(0), 0, Math.min(gen, 8), 1, t, line -> { });
                }
            }
            for (int d : depths) {
                if (gen > 0 && interleave) {
                    err.printf(Locale.ROOT, "think4j tg%d @ d%d --kv %s (interleaved) threads %d%n", gen, d, String.join(";", kvSpecs), t);
                    for (BenchResult r : bench.decodeInterleaved(policies, d, gen, repetitions, t, err::println)) {
                        think.put(key(r.kvSpec(), d, r.test()), r);
                        thinkResults.add(r);
                    }
                }
                for (KvPolicy policy : policies) {
                    if (prompt > 0) {
                        err.printf(Locale.ROOT, "think4j pp%d @ d%d --kv %s threads %d%n", prompt, d, policy.spec(), t);
                        BenchResult r = bench.prefill(policy, d, prompt, repetitions, t, err::println);
                        think.put(key(policy.spec(), d, r.test()), r);
                        thinkResults.add(r);
                    }
                    if (gen > 0 && !interleave) {
                        err.printf(Locale.ROOT, "think4j tg%d @ d%d --kv %s threads %d%n", gen, d, policy.spec(), t);
                        BenchResult r = bench.decode(policy, d, gen, repetitions, t, err::println);
                        think.put(key(policy.spec(), d, r.test()), r);
                        thinkResults.add(r);
                    }
                }
            }
        }

        // llama.cpp
        Path logDir = out != null ? out.resolve("llama.cpp-logs") : Files.createTempDirectory("think4j-llamacpp");
        Files.createDirectories(logDir);
        List<LlamaCppBench.Cell> llama = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        NativeStderr redirect = llamaVerbose ? NativeStderr.none() : NativeStderr.redirectTo(logDir.resolve("native-stderr.log"));
        PrintStream progress = redirect.redirected() ? redirect.progress() : err;
        if (redirect.redirected()) {
            progress.println("llama.cpp console log -> " + logDir.resolve("native-stderr.log"));
        }
        try {
            for (int d : depths) {
                for (int i = 0; i < cacheTypes.size(); i++) {
                    CacheType type = cacheTypes.get(i);
                    String name = llamaKv.get(i).trim().toLowerCase(Locale.ROOT);
                    String unsupported = unsupported(type, config.headDim());
                    if (unsupported != null) {
                        String note = "llama.cpp " + name + " skipped: " + unsupported;
                        if (!notes.contains(note)) {
                            notes.add(note);
                        }
                        progress.println(note);
                        continue;
                    }
                    boolean fa = switch (flashAttn) {
                        case "on" -> true;
                        case "off" -> false;
                        default -> type != CacheType.F16 && type != CacheType.F32 && type != CacheType.BF16;
                    };
                    int ctx = roundUp(d + Math.max(prompt, 0) + Math.max(gen, 0) + 2, 256);
                    Path logFile = logDir.resolve("d" + d + "-" + name + ".log");
                    progress.printf(Locale.ROOT, "llama.cpp load: cache %s, flash-attn %s, ctx %d, threads %d (log %s)%n",
                            name, fa ? "on" : "off", ctx, t, logFile);
                    try (LlamaCppBench lb = new LlamaCppBench(model, type, fa, t, ctx, logFile, config.vocabSize(), seed, progress)) {
                        if (!noWarmup) {
                            lb.warmUp(Math.min(Math.max(prompt, 2), 32));
                        }
                        if (prompt > 0) {
                            progress.printf(Locale.ROOT, "llama.cpp pp%d @ d%d cache %s threads %d%n", prompt, d, name, t);
                            llama.add(lb.prefill(name, fa, d, prompt, repetitions, ctx));
                        }
                        if (gen > 0) {
                            progress.printf(Locale.ROOT, "llama.cpp tg%d @ d%d cache %s threads %d%n", gen, d, name, t);
                            llama.add(lb.decode(name, fa, d, gen, repetitions, ctx));
                        }
                    } catch (RuntimeException e) {
                        String note = "llama.cpp " + name + " @ d" + d + " failed: " + e.getMessage();
                        notes.add(note);
                        progress.println(note);
                    }
                }
            }
        } finally {
            redirect.close();
        }
        if (out == null) {
            deleteTree(logDir);
        }
        for (LlamaCppBench.Cell c : llama) {
            if (!c.note().isEmpty()) {
                notes.add("llama.cpp " + c.cacheType() + " " + c.test() + " @ d" + c.depth() + ": " + c.note());
            }
        }

        List<String> specNames = policies.stream().map(KvPolicy::spec).toList();
        List<String> typeNames = llamaKv.stream().map(s -> s.trim().toLowerCase(Locale.ROOT)).toList();
        String md = markdown(config, t, specNames, typeNames, think, llama, notes);
        System.out.print(md);
        System.out.flush();
        if (out != null) {
            Files.createDirectories(out);
            Files.writeString(out.resolve("side-by-side.md"), md);
            Files.writeString(out.resolve("side-by-side.json"), json(config, t, thinkResults, llama, notes));
            err.println("wrote " + out.resolve("side-by-side.md") + " and " + out.resolve("side-by-side.json"));
        }
        return 0;
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (java.io.IOException e) {
            System.err.println("note: could not delete " + dir + ": " + e.getMessage());
        }
    }

    private void validate() {
        if (repetitions < 1) {
            throw new IllegalArgumentException("-r must be >= 1, got " + repetitions);
        }
        if (prompt < 0 || gen < 0 || (prompt == 0 && gen == 0)) {
            throw new IllegalArgumentException("-p and -n must be >= 0 and not both 0");
        }
        for (int d : depths) {
            if (d < 0) {
                throw new IllegalArgumentException("depths must be >= 0, got " + d);
            }
        }
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("-t must be >= 1, got " + threads);
        }
        if (!List.of("auto", "on", "off").contains(flashAttn)) {
            throw new IllegalArgumentException("--llama-fa must be auto, on or off, got " + flashAttn);
        }
    }

    private static CacheType cacheType(String s) {
        try {
            return CacheType.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown llama.cpp cache type '" + s + "' (known: "
                    + String.join(", ", Arrays.stream(CacheType.values()).map(c -> c.name().toLowerCase(Locale.ROOT)).toList()) + ")");
        }
    }

    /** Why llama.cpp cannot use this cache type here, or null. (Its GGML_ASSERT would abort the JVM.) */
    private static String unsupported(CacheType type, int headDim) {
        int block = blockSize(type);
        if (headDim % block != 0) {
            return "head dim " + headDim + " is not a multiple of the " + type.name().toLowerCase(Locale.ROOT) + " block size " + block;
        }
        return null;
    }

    private static int blockSize(CacheType type) {
        return switch (type) {
            case F32, F16, BF16 -> 1;
            default -> 32;
        };
    }

    /** Bytes per cached element of a llama.cpp cache type. */
    private static double bytesPerElement(CacheType type) {
        return switch (type) {
            case F32 -> 4;
            case F16, BF16 -> 2;
            case Q8_0 -> 34.0 / 32;
            case Q4_0, IQ4_NL -> 18.0 / 32;
            case Q4_1 -> 20.0 / 32;
            case Q5_0 -> 22.0 / 32;
            case Q5_1 -> 24.0 / 32;
        };
    }

    private static int roundUp(int v, int multiple) {
        return (v + multiple - 1) / multiple * multiple;
    }

    private static String key(String spec, int depth, String test) {
        return spec + "|" + depth + "|" + test;
    }

    private List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (int d : depths) {
            if (prompt > 0) {
                rows.add(new Row(d, "pp" + prompt));
            }
            if (gen > 0) {
                rows.add(new Row(d, "tg" + gen));
            }
        }
        return rows;
    }

    private String markdown(ModelConfig config, int t, List<String> specs, List<String> types,
                            Map<String, BenchResult> think, List<LlamaCppBench.Cell> llama, List<String> notes) {
        Map<String, LlamaCppBench.Cell> cells = new LinkedHashMap<>();
        Map<String, Boolean> fa = new LinkedHashMap<>();
        for (LlamaCppBench.Cell c : llama) {
            cells.put(key(c.cacheType(), c.depth(), c.test()), c);
            fa.put(c.cacheType(), c.flashAttn());
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "model: %s (%d layers, %d/%d heads, head dim %d), threads %d, repetitions %d (medians)%n",
                model.getFileName(), config.layers(), config.heads(), config.kvHeads(), config.headDim(), t, repetitions));
        String timing = llama.stream().anyMatch(c -> c.timing().equals("wall-clock"))
                ? "some llama.cpp cells are wall-clock around complete() (server timings missing)"
                : "llama.cpp t/s from its server-slot timings (prompt eval / eval time)";
        sb.append("llama.cpp: de.kherud:llama 4.2.0, ").append(timing).append("; think4j: dev.think4j.bench.Bench").append('\n');
        sb.append('\n');
        List<String> header = new ArrayList<>(List.of("depth", "test"));
        for (String s : specs) {
            header.add("think4j " + s + " t/s");
        }
        for (String ty : types) {
            header.add("llama.cpp " + ty + (fa.getOrDefault(ty, false) ? " (fa)" : "") + " t/s");
        }
        for (String s : specs) {
            for (String ty : types) {
                header.add(s + " / " + ty);
            }
        }
        for (String s : specs) {
            header.add("think4j KV MiB " + s);
        }
        sb.append("| ").append(String.join(" | ", header)).append(" |\n");
        sb.append("| --- | --- |");
        sb.append(" ---: |".repeat(header.size() - 2)).append('\n');
        for (Row row : rows()) {
            List<String> cellsOut = new ArrayList<>(List.of(Integer.toString(row.depth()), row.test()));
            for (String s : specs) {
                BenchResult r = think.get(key(s, row.depth(), row.test()));
                cellsOut.add(r == null ? "n/a" : String.format(Locale.ROOT, "%.2f", r.medianTokensPerSecond()));
            }
            for (String ty : types) {
                LlamaCppBench.Cell c = cells.get(key(ty, row.depth(), row.test()));
                cellsOut.add(c == null ? "n/a" : String.format(Locale.ROOT, "%.2f", Bench.median(c.tokensPerSecond())));
            }
            for (String s : specs) {
                BenchResult r = think.get(key(s, row.depth(), row.test()));
                for (String ty : types) {
                    LlamaCppBench.Cell c = cells.get(key(ty, row.depth(), row.test()));
                    cellsOut.add(r == null || c == null ? "n/a"
                            : String.format(Locale.ROOT, "%.2f", r.medianTokensPerSecond() / Bench.median(c.tokensPerSecond())));
                }
            }
            for (String s : specs) {
                BenchResult r = think.get(key(s, row.depth(), row.test()));
                cellsOut.add(r == null ? "n/a" : String.format(Locale.ROOT, "%.2f", r.kvBytes() / 1048576.0));
            }
            sb.append("| ").append(String.join(" | ", cellsOut)).append(" |\n");
        }
        for (String n : notes) {
            sb.append('\n').append("note: ").append(n);
        }
        if (!notes.isEmpty()) {
            sb.append('\n');
        }
        return sb.toString();
    }

    private String json(ModelConfig config, int t, List<BenchResult> think, List<LlamaCppBench.Cell> llama,
                        List<String> notes) throws Exception {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("model", model.toString());
        root.put("threads", t);
        root.put("prompt", prompt);
        root.put("gen", gen);
        root.put("depths", depths);
        root.put("repetitions", repetitions);
        root.put("think4j", think);
        List<Map<String, Object>> ll = new ArrayList<>();
        for (LlamaCppBench.Cell c : llama) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cacheType", c.cacheType());
            m.put("flashAttn", c.flashAttn());
            m.put("depth", c.depth());
            m.put("test", c.test());
            m.put("tokens", c.tokens());
            m.put("contextSize", c.contextSize());
            m.put("repetitions", c.tokensPerSecond().length);
            m.put("medianTokensPerSecond", Bench.median(c.tokensPerSecond()));
            m.put("minTokensPerSecond", Arrays.stream(c.tokensPerSecond()).min().orElse(0));
            m.put("maxTokensPerSecond", Arrays.stream(c.tokensPerSecond()).max().orElse(0));
            m.put("tokensPerSecond", c.tokensPerSecond());
            int cached = c.test().startsWith("pp") ? c.depth() + c.tokens() : Math.max(1, c.depth()) + c.tokens() + 1;
            m.put("kvBytesEstimate", Math.round((double) config.layers() * config.kvHeads() * config.headDim() * cached
                    * 2 * bytesPerElement(cacheType(c.cacheType()))));
            m.put("timing", c.timing());
            if (!c.note().isEmpty()) {
                m.put("note", c.note());
            }
            ll.add(m);
        }
        root.put("llamacpp", ll);
        root.put("notes", notes);
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
    }
}
