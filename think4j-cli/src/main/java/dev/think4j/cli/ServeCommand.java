package dev.think4j.cli;

import dev.think4j.Think4jException;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.server.CapacityBench;
import dev.think4j.server.InferenceServer;
import dev.think4j.server.KvStore;
import dev.think4j.server.KvStores;
import dev.think4j.server.ServerConfig;
import dev.think4j.tokenizer.ChatFormat;
import dev.think4j.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** OpenAI-compatible HTTP server with continuous batching under a KV byte budget. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve /v1/completions, /v1/chat/completions, /v1/models, /health and /metrics.")
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--kv-budget", paramLabel = "BYTES", defaultValue = "4GiB",
            description = "KV cache bytes shared by all sequences (default: ${DEFAULT-VALUE})")
    String kvBudget;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "bind address (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "256",
            description = "requests waiting for admission before new ones get 429 (default: ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "32",
            description = "sequences per batched decode forward (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--prefix-cache", paramLabel = "N", defaultValue = "16",
            description = "finished caches kept for multi-turn prefix reuse; 0 disables (default: ${DEFAULT-VALUE})")
    int prefixCache;

    @Option(names = "--slot-save-path", paramLabel = "DIR",
            description = "directory for POST /slots/{id}?action=save|restore session files (off without it)")
    java.nio.file.Path slotSavePath;

    @Option(names = "--prefill-chunk", paramLabel = "N", defaultValue = "256",
            description = "prompt tokens fed between two decode steps, so a long prompt stalls running streams by at most"
                    + " one chunk; rounded up to a multiple of the forward chunk (default: ${DEFAULT-VALUE})")
    int prefillChunk;

    @Option(names = "--shutdown-grace", paramLabel = "DURATION", defaultValue = "10s",
            description = "on SIGTERM/SIGINT, how long running requests may finish (new ones get 503) before the rest"
                    + " end with an error, e.g. 30s, 500ms, 2m, 0 (default: ${DEFAULT-VALUE})")
    String shutdownGrace;

    @Option(names = "--kv-store", paramLabel = "URI",
            description = "share finished caches with other replicas through Redis or Valkey: redis://host:port[/db] or"
                    + " valkey://host:port[/db] (user:password@ before the host if it needs one); a follow-up turn on another"
                    + " replica then loads the compressed cache instead of prefilling the conversation again; without"
                    + " --slot-save-path, /slots save and restore sessions there too (see docs/REPLICAS.md)")
    String kvStore;

    @Option(names = "--kv-store-ttl", paramLabel = "DURATION", defaultValue = "1h",
            description = "how long a shared cache stays in --kv-store, e.g. 30m, 2h (default: ${DEFAULT-VALUE})")
    String kvStoreTtl;

    @Option(names = "--bench", description = "instead of serving, measure capacity under --kv-budget for full and --bench-kv")
    boolean bench;

    @Option(names = "--bench-kv", paramLabel = "SPEC", split = ";", defaultValue = "think:0.5",
            description = "compressed specs to compare with full in --bench, ';'-separated (default: ${DEFAULT-VALUE})")
    List<String> benchKv;

    @Option(names = "--bench-sequences", paramLabel = "N", defaultValue = "48", description = "(default: ${DEFAULT-VALUE})")
    int benchSequences;

    @Option(names = "--bench-prompt", paramLabel = "N", defaultValue = "192", description = "prompt tokens (default: ${DEFAULT-VALUE})")
    int benchPrompt;

    @Option(names = "--bench-max-tokens", paramLabel = "N", defaultValue = "32", description = "(default: ${DEFAULT-VALUE})")
    int benchMaxTokens;

    @Override
    public Integer call() throws Exception {
        modelOptions.applyThreads();
        KvPolicy policy = modelOptions.policy();
        long budget = Bytes.parse(kvBudget);
        if (budget < 1) {
            throw new Think4jException("--kv-budget must be positive, got " + kvBudget);
        }
        if (maxQueue < 0 || maxBatch < 1 || prefixCache < 0) {
            throw new Think4jException("--max-queue and --prefix-cache must be >= 0 and --max-batch >= 1");
        }
        if (port < 0 || port > 65535) {
            throw new Think4jException("--port must be in 0..65535, got " + port);
        }
        if (prefillChunk < 1) {
            throw new Think4jException("--prefill-chunk must be >= 1, got " + prefillChunk);
        }
        Duration grace = duration("--shutdown-grace", shutdownGrace);
        Duration storeTtl = duration("--kv-store-ttl", kvStoreTtl);
        if (storeTtl.isZero()) {
            throw new Think4jException("--kv-store-ttl must be positive, got " + kvStoreTtl);
        }
        if (kvStore != null && bench) {
            throw new Think4jException("--kv-store does not apply to --bench");
        }
        PrintWriter err = spec.commandLine().getErr();
        if (!bench) {
            // before the model loads: a busy port should fail at once, not after a long load
            checkPortFree(host, port);
        }
        // also before the model loads, for the same reason; the server owns it from start() on
        KvStore store = kvStore == null ? null : KvStores.open(kvStore);
        try (Model model = modelOptions.loadModel()) {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.gguf());
            if (bench) {
                return bench(model, tokenizer, budget);
            }
            ChatFormat format = ChatFormat.detect(model.gguf().getString("tokenizer.chat_template", null), tokenizer);
            String fileName = modelOptions.modelPath().getFileName().toString();
            String modelId = fileName.endsWith(".gguf") ? fileName.substring(0, fileName.length() - 5) : fileName;
            ServerConfig config = new ServerConfig(host, port, budget, policy.spec(), maxQueue, maxBatch,
                    modelOptions.contextLength(model.config(), err), prefixCache, modelId, prefillChunk, slotSavePath)
                    .withKvStore(kvStore, storeTtl);
            CountDownLatch stop = new CountDownLatch(1);
            InferenceServer started;
            try {
                KvStore owned = store;
                store = null;
                started = InferenceServer.start(config, model, tokenizer, format, owned);
            } catch (RuntimeException e) {
                // another process may take the port between the check and the start
                if (isBindFailure(e)) {
                    throw portInUse(host, port);
                }
                throw e;
            }
            try (InferenceServer server = started) {
                // The JVM exits once its hooks return, so the hook itself drains the server.
                Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("think4j-shutdown").unstarted(() -> {
                    err.printf("shutting down: no new requests, up to %d ms for running ones%n", grace.toMillis());
                    err.flush();
                    server.shutdown(grace);
                    err.println("stopped");
                    err.flush();
                    stop.countDown();
                }));
                err.printf("serving %s (format %s, --kv %s, --kv-budget %s) on http://%s:%d/v1%n", modelId, format.name(),
                        policy.spec(), Bytes.human(budget), host, server.port());
                if (kvStore != null) {
                    err.printf("sharing finished caches through %s (ttl %ds)%n", server.kvStore(), storeTtl.toSeconds());
                }
                err.flush();
                stop.await();
            }
        } finally {
            if (store != null) {
                store.close(); // the model failed to load before the server took it
            }
        }
        return 0;
    }

    /** Binds and releases the address, the way the server will bind it, to report a busy port in one line. */
    static void checkPortFree(String host, int port) {
        if (port == 0) {
            return;
        }
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress(host, port));
        } catch (java.net.BindException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("in use")) {
                throw portInUse(host, port);
            }
            throw new Think4jException("cannot listen on " + host + ":" + port + ": " + m + " (check --host and --port)");
        } catch (java.io.IOException | IllegalArgumentException | SecurityException e) {
            throw new Think4jException("cannot listen on " + host + ":" + port + ": " + e.getMessage() + " (check --host and --port)");
        }
    }

    private static Think4jException portInUse(String host, int port) {
        return new Think4jException("port " + port + " is already in use on " + host
                + " (another server running?); stop it or choose another --port (--port 0 picks a free one)");
    }

    private static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.BindException || t.getClass().getSimpleName().contains("BindException")) {
                return true;
            }
        }
        return false;
    }

    /** {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1.5s}, a bare number of seconds, or ISO-8601 ({@code PT10S}). */
    static Duration duration(String option, String text) {
        String s = text.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            if (s.startsWith("pt")) {
                Duration d = Duration.parse(s.toUpperCase(java.util.Locale.ROOT));
                if (!d.isNegative()) {
                    return d;
                }
            } else {
                double scale = 1000;
                String[][] units = {{"ms", "1"}, {"s", "1000"}, {"m", "60000"}, {"h", "3600000"}};
                for (String[] u : units) {
                    if (s.endsWith(u[0])) {
                        scale = Double.parseDouble(u[1]);
                        s = s.substring(0, s.length() - u[0].length()).trim();
                        break;
                    }
                }
                double millis = Double.parseDouble(s) * scale;
                if (millis >= 0 && millis < Long.MAX_VALUE / 2) {
                    return Duration.ofMillis(Math.round(millis));
                }
            }
        } catch (NumberFormatException | java.time.format.DateTimeParseException e) {
            // reported below
        }
        throw new Think4jException(option + " takes a duration such as 10s, 500ms or 2m, got '" + text + "'");
    }

    private int bench(Model model, Tokenizer tokenizer, long budget) throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        int[] prompt = CapacityBench.prompt(tokenizer, benchPrompt);
        out.printf("kv-budget %s, %d sequences of %d prompt + %d max tokens, max-batch %d%n", Bytes.human(budget),
                benchSequences, benchPrompt, benchMaxTokens, maxBatch);
        out.printf("%-24s %12s %12s %12s%n", "kv", "peak active", "tokens", "tokens/s");
        List<String> specs = new java.util.ArrayList<>();
        specs.add("full");
        specs.addAll(benchKv);
        for (String s : specs) {
            CapacityBench.Result r = CapacityBench.run(model, tokenizer, budget, s, prompt, benchMaxTokens, benchSequences,
                    maxBatch);
            out.printf("%-24s %12d %12d %12.1f%n", r.spec(), r.peakActive(), r.generatedTokens(), r.tokensPerSecond());
            out.flush();
        }
        return 0;
    }
}
