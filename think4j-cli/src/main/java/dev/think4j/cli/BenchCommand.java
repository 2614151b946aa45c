package dev.think4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.Think4jException;
import dev.think4j.bench.Bench;
import dev.think4j.bench.BenchResult;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.server.BatchBench;
import dev.think4j.server.KvStore;
import dev.think4j.server.KvStores;
import dev.think4j.server.MemoryKvStore;
import dev.think4j.server.RestoreBench;
import dev.think4j.tensor.Parallel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** think4j bench: prefill and decode throughput per KV spec and depth, as Markdown and JSON. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure prefill (pp) and decode (tg) tokens/s, KV bytes and peak RSS, llama-bench style.",
            "Each --kv spec gets untimed warm-up passes first (see --no-warmup). Depths whose test would run past the "
                    + "model's context (<arch>.context_length) are skipped with a note."})
public final class BenchCommand implements Callable<Integer> {
    /** Decode steps of the warm-up pass: enough for the JIT to compile the decode path. */
    static final int WARM_UP_DECODE = 32;

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "PATH", description = "GGUF model (default: bundled stories260K)")
    Path model;

    @Option(names = "--check-tensors", description = "at load, scan every weight for NaN or infinite values and name "
            + "the first bad tensor (reads the whole file; as llama.cpp's --check-tensors)")
    boolean checkTensors;

    @Option(names = {"-p", "--n-prompt"}, split = ",", defaultValue = "512", paramLabel = "N",
            description = "prefill sizes, 0 to skip (default: ${DEFAULT-VALUE})")
    List<Integer> prompt;

    @Option(names = {"-n", "--n-gen"}, split = ",", defaultValue = "128", paramLabel = "N",
            description = "decode lengths, 0 to skip (default: ${DEFAULT-VALUE})")
    List<Integer> gen;

    @Option(names = {"-d", "--depth"}, split = ",", defaultValue = "0", paramLabel = "N",
            description = "tokens already cached before the test, e.g. 0,4096,8192 (default: ${DEFAULT-VALUE})")
    List<Integer> depth;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", paramLabel = "N", description = "(default: ${DEFAULT-VALUE})")
    int repetitions;

    @Option(names = {"-t", "--threads"}, split = ",", paramLabel = "N", description = "thread counts (default: all cores)")
    List<Integer> threads;

    @Option(names = "--kv", split = ";", defaultValue = "full", paramLabel = "SPEC",
            description = "KV specs to compare, separated by ';' (default: ${DEFAULT-VALUE})")
    List<String> kv;

    @Option(names = "--chunk", defaultValue = "64", paramLabel = "N", description = "prefill chunk (default: ${DEFAULT-VALUE})")
    int chunk;

    @Option(names = {"-s", "--seed"}, defaultValue = "1", description = "token-id seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--json", description = "print results as one JSON line (after the Markdown table on stderr)")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "write bench.md and bench.json into DIR")
    Path out;

    @Option(names = "--no-warmup",
            description = "before the timed repetitions, run untimed warm-up passes per --kv spec and thread count "
                    + "(a prefill of the largest -p and up to " + WARM_UP_DECODE + " decode steps on an empty cache, repeated "
                    + "for at least a second), so that "
                    + "JIT compilation does not fall into the first spec's timings; --no-warmup skips it")
    boolean noWarmup;

    @Option(names = "--interleave", description = "decode tests: fill one cache per --kv spec, then alternate the specs' "
            + "repetitions, so that machine drift falls on all of them alike (all caches are held at once)")
    boolean interleave;

    @Option(names = "--batch", split = ",", paramLabel = "B",
            description = {"serving throughput instead: for each B, B requests of -p prompt and -n generated tokens arrive "
                    + "at once at the server's scheduler (no HTTP); prints aggregate tokens/s S = B*(p+n)/time as "
                    + "llama-batched-bench does, the prefill and decode rates, and time-to-first-token and "
                    + "inter-token latency percentiles. Uses the first -p, -n and --kv values."})
    List<Integer> batch;

    @Option(names = "--prefill-chunk", defaultValue = "256", paramLabel = "N",
            description = "with --batch: prompt tokens fed between two decode steps, as serve's (default: ${DEFAULT-VALUE})")
    int prefillChunk;

    @Option(names = "--restore",
            description = {"replica restore instead: per --kv spec, prefill -p tokens (recompute), then encode the cache as "
                    + "a session, write it to the store, read it back and decode it (restore), and check that the next "
                    + "token's logits match bit for bit. Uses the first -p; -r repetitions (medians reported)."})
    boolean restore;

    @Option(names = "--kv-store", paramLabel = "URI",
            description = "with --restore: the store to go through, redis://host:port[/db] or valkey://...; default an "
                    + "in-process store (no network)")
    String kvStore;

    @Override
    public Integer call() throws Exception {
        if (restore && batch != null) {
            throw new Think4jException("--restore and --batch are different benchmarks; choose one");
        }
        if (kvStore != null && !restore) {
            throw new Think4jException("--kv-store applies to bench --restore only");
        }
        if (restore) {
            return restoreBench();
        }
        if (batch != null) {
            return batchBench();
        }
        if (repetitions < 1) {
            throw new Think4jException("--repetitions must be >= 1, got " + repetitions);
        }
        for (List<Integer> l : List.of(prompt, gen, depth)) {
            for (int v : l) {
                if (v < 0) {
                    throw new Think4jException("token counts must be >= 0, got " + v);
                }
            }
        }
        List<KvPolicy> policies = new ArrayList<>();
        for (String s : kv) {
            policies.add(KvSpec.parse(s));
        }
        List<Integer> threadCounts = threads == null ? List.of(Parallel.threads()) : threads;
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path modelPath = model != null ? model : DefaultModel.path();
        List<BenchResult> results = new ArrayList<>();
        try (Model m = Model.load(modelPath, checkTensors)) {
            int context = m.config().contextLength();
            List<Integer> depths = new ArrayList<>();
            for (int d : depth) {
                // a test past the trained context measures positions the model never saw: skip it rather than report it
                int needed = d + Math.max(max(prompt), max(gen));
                if (needed > context) {
                    err.println("note: skipping depth " + d + ": " + d + " cached + " + Math.max(max(prompt), max(gen))
                            + " test tokens exceed the model's context of " + context + " tokens (" + m.config().architecture()
                            + ".context_length)");
                } else if (!depths.contains(d)) {
                    depths.add(d);
                }
            }
            if (depths.isEmpty()) {
                throw new Think4jException("every --depth plus the test tokens (-p/-n) exceeds the model's context of " + context
                        + " tokens; use smaller -d, -p or -n");
            }
            err.flush();
            Bench bench = new Bench(m, chunk, seed);
            java.util.function.Consumer<String> log = line -> {
                err.println(line);
                err.flush();
            };
            int warmPrefill = max(prompt);
            int warmDecode = Math.min(max(gen), WARM_UP_DECODE);
            for (int t : threadCounts) {
                Parallel.setThreads(t);
                if (!noWarmup) {
                    // the JIT compiles each spec's code paths on first use: pay that here, untimed, not in the first repetitions
                    for (KvPolicy policy : policies) {
                        bench.warmUp(policy, warmPrefill, warmDecode, log);
                    }
                }
                if (interleave) {
                    for (int d : depths) {
                        for (int n : gen) {
                            if (n > 0) {
                                err.println("tg" + n + " @ d" + d + " --kv " + String.join(";", kv) + " (interleaved) threads " + t);
                                results.addAll(bench.decodeInterleaved(policies, d, n, repetitions, t, log));
                            }
                        }
                    }
                }
                for (KvPolicy policy : policies) {
                    for (int d : depths) {
                        for (int p : prompt) {
                            if (p > 0) {
                                err.println("pp" + p + " @ d" + d + " --kv " + policy.spec() + " threads " + t);
                                results.add(bench.prefill(policy, d, p, repetitions, t, log));
                            }
                        }
                        for (int n : gen) {
                            if (n > 0 && !interleave) {
                                err.println("tg" + n + " @ d" + d + " --kv " + policy.spec() + " threads " + t);
                                results.add(bench.decode(policy, d, n, repetitions, t, log));
                            }
                        }
                    }
                }
            }
        }
        return report(Bench.markdown(results, modelPath.getFileName().toString()), results, o, err);
    }

    private int batchBench() throws Exception {
        for (int b : batch) {
            if (b < 1) {
                throw new Think4jException("--batch sizes must be >= 1, got " + b);
            }
        }
        int p = prompt.get(0);
        int n = gen.get(0);
        if (p < 1 || n < 1) {
            throw new Think4jException("--batch needs -p and -n of at least 1");
        }
        if (prefillChunk < 1) {
            throw new Think4jException("--prefill-chunk must be >= 1, got " + prefillChunk);
        }
        String kvSpec = KvSpec.parse(kv.get(0)).spec();
        if (threads != null) {
            Parallel.setThreads(threads.get(0));
        }
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path modelPath = model != null ? model : DefaultModel.path();
        List<BatchBench.Row> rows = new ArrayList<>();
        try (Model m = Model.load(modelPath, checkTensors)) {
            if (p + n > m.config().contextLength()) {
                throw new Think4jException("-p + -n = " + (p + n) + " exceeds the model's context of " + m.config().contextLength() + " tokens");
            }
            dev.think4j.tokenizer.Tokenizer tokenizer = dev.think4j.tokenizer.Tokenizer.fromGguf(m.gguf());
            if (!noWarmup) {
                // compiles the prefill, batched decode and sampling paths before anything is timed
                int wb = Math.min(8, batch.stream().mapToInt(Integer::intValue).max().orElse(1));
                err.println("warm-up: " + wb + " requests of " + Math.min(p, 64) + " + 16 tokens, then 1");
                err.flush();
                BatchBench.run(m, tokenizer, kvSpec, Math.min(p, 64), 16, wb, prefillChunk, seed + 1000);
                BatchBench.run(m, tokenizer, kvSpec, Math.min(p, 64), 16, 1, prefillChunk, seed + 1001);
            }
            for (int b : batch) {
                err.println("batch " + b + ": " + b + " x (" + p + " prompt + " + n + " generated) tokens, --kv " + kvSpec
                        + ", threads " + Parallel.threads());
                err.flush();
                rows.add(BatchBench.run(m, tokenizer, kvSpec, p, n, b, prefillChunk, seed));
            }
        }
        return report(BatchBench.markdown(rows, modelPath.getFileName().toString(), kvSpec), rows, o, err);
    }

    private int restoreBench() throws Exception {
        int p = prompt.get(0);
        if (p < 1) {
            throw new Think4jException("--restore needs -p of at least 1");
        }
        if (repetitions < 1) {
            throw new Think4jException("--repetitions must be >= 1, got " + repetitions);
        }
        List<String> specs = new ArrayList<>();
        for (String s : kv) {
            specs.add(KvSpec.parse(s).spec());
        }
        if (threads != null) {
            Parallel.setThreads(threads.get(0));
        }
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        java.util.function.Consumer<String> log = line -> {
            err.println(line);
            err.flush();
        };
        Path modelPath = model != null ? model : DefaultModel.path();
        List<RestoreBench.Row> rows = new ArrayList<>();
        // before the model loads, so an unreachable store fails at once
        try (KvStore store = kvStore != null ? KvStores.open(kvStore) : new MemoryKvStore(Long.MAX_VALUE);
             Model m = Model.load(modelPath, checkTensors)) {
            if (p + 1 > m.config().contextLength()) {
                err.println("note: -p " + p + " + 1 runs past the model's context of " + m.config().contextLength() + " tokens");
            }
            dev.think4j.tokenizer.Tokenizer tokenizer = dev.think4j.tokenizer.Tokenizer.fromGguf(m.gguf());
            if (!noWarmup) {
                log.accept("warm-up: one untimed round of " + Math.min(p, 128) + " tokens per spec");
                for (String s : specs) {
                    RestoreBench.run(m, tokenizer, s, Math.min(p, 128), store, 1, seed + 1000, line -> { });
                }
            }
            for (String s : specs) {
                log.accept("restore p" + p + " --kv " + s + " via " + store.describe() + ", threads " + Parallel.threads());
                rows.add(RestoreBench.run(m, tokenizer, s, p, store, repetitions, seed, log));
            }
        }
        return report(RestoreBench.markdown(rows, modelPath.getFileName().toString()), rows, o, err);
    }

    /** Markdown to stdout (to stderr under --json, with the JSON on stdout), and both files under --out. */
    private int report(String md, Object results, PrintWriter o, PrintWriter err) throws Exception {
        String js = new ObjectMapper().writeValueAsString(results);
        if (out != null) {
            Files.createDirectories(out);
            Files.writeString(out.resolve("bench.md"), md);
            Files.writeString(out.resolve("bench.json"), js);
        }
        if (json) {
            err.print(md);
            o.println(js);
        } else {
            o.print(md);
        }
        o.flush();
        err.flush();
        return 0;
    }

    private static int max(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).max().orElse(0);
    }
}
