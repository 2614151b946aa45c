package dev.think4j.bench.llamacpp;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.CacheType;
import de.kherud.llama.args.Sampler;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.StringJoiner;

/**
 * The llama.cpp side, through de.kherud:llama (llama.cpp's server code in-process over JNI): prefill
 * of {@code p} tokens and decode of {@code n} tokens after {@code depth} cached tokens, with one loaded
 * context per (depth, cache type). Times come from the server slot's own timings (see {@link TimingLog}).
 */
final class LlamaCppBench implements AutoCloseable {
    /** One measured cell; tokensPerSecond holds every repetition. */
    record Cell(String cacheType, boolean flashAttn, int depth, String test, int tokens, int contextSize,
                double[] tokensPerSecond, String timing, String note) {
    }

    private final LlamaModel model;
    private final TimingLog log;
    private final int vocab;
    private final long seed;
    private final PrintStream progress;
    private final Field jsonParameters;

    LlamaCppBench(Path gguf, CacheType type, boolean flashAttn, int threads, int contextSize, Path logFile,
                  int vocab, long seed, PrintStream progress) throws IOException, ReflectiveOperationException {
        this.vocab = vocab;
        this.seed = seed;
        this.progress = progress;
        this.log = new TimingLog(logFile);
        this.jsonParameters = jsonParametersField();
        ModelParameters mp = new ModelParameters()
                .setModel(gguf.toString())
                .setThreads(threads)
                .setThreadsBatch(threads)
                .setCtxSize(contextSize)
                .setParallel(1)
                .setGpuLayers(0)
                .setCacheTypeK(type)
                .setCacheTypeV(type)
                .setLogFile(logFile.toString());
        if (flashAttn) {
            mp.enableFlashAttn();
        }
        PrintStream out = System.out;
        // LlamaLoader prints "Extracted 'libjllama.so' ..." on stdout, which carries the table
        System.setOut(System.err);
        try {
            this.model = new LlamaModel(mp);
        } finally {
            System.setOut(out);
        }
    }

    /** An untimed completion so first-use costs (page faults, thread start-up) stay out of the numbers. */
    void warmUp(int tokens) throws IOException, InterruptedException {
        complete(randomIds(Math.max(2, tokens), 99), 2, false);
        log.next(30_000);
    }

    /** Prefill of p tokens after depth cached ones: t/s from the prompt-processing time of the second request. */
    Cell prefill(String typeName, boolean fa, int depth, int p, int reps, int ctx) throws IOException, InterruptedException {
        double[] tps = new double[reps];
        String timing = "server timings";
        String note = "";
        for (int r = 0; r < reps; r++) {
            int[] prompt = randomIds(p, 1000 + r);
            int[] full = prompt;
            boolean cache = false;
            if (depth > 0) {
                int[] prefix = randomIds(depth, r);
                // fill the cache with this rep's depth tokens; the server keeps them only with cache_prompt on.
                // Each rep draws new ids, so nothing of the previous rep matches (checked via the token count).
                complete(prefix, 1, true);
                log.next(120_000);
                full = concat(prefix, prompt);
                cache = true;
            }
            long t0 = System.nanoTime();
            complete(full, 1, cache);
            long t1 = System.nanoTime();
            TimingLog.Timings t = log.next(30_000);
            if (t == null) {
                timing = "wall-clock";
                tps[r] = p / ((t1 - t0) / 1e9);
            } else {
                tps[r] = t.promptTokens() / (t.promptMs() / 1000.0);
                if (t.promptTokens() != p) {
                    note = "llama.cpp processed " + t.promptTokens() + " prompt tokens, not " + p;
                }
            }
            progress.printf(Locale.ROOT, "  llama.cpp %s pp%d @ d%d rep %d: %.2f tok/s%n", typeName, p, depth, r + 1, tps[r]);
        }
        return new Cell(typeName, fa, depth, "pp" + p, p, ctx, tps, timing, note);
    }

    /**
     * Decode of n tokens after max(1, depth) cached ones. The server samples its first token from the
     * prompt's logits, so n + 1 tokens are requested and the n decode steps after it are timed.
     */
    Cell decode(String typeName, boolean fa, int depth, int n, int reps, int ctx) throws IOException, InterruptedException {
        double[] tps = new double[reps];
        String timing = "server timings";
        String note = "";
        for (int r = 0; r < reps; r++) {
            int[] prompt = randomIds(Math.max(1, depth), r);
            long t0 = System.nanoTime();
            complete(prompt, n + 1, false);
            long t1 = System.nanoTime();
            TimingLog.Timings t = log.next(30_000);
            if (t == null) {
                timing = "wall-clock";
                tps[r] = n / ((t1 - t0) / 1e9);
            } else {
                tps[r] = (t.evalTokens() - 1) / (t.evalMs() / 1000.0);
                if (t.evalTokens() != n + 1) {
                    note = "llama.cpp generated " + t.evalTokens() + " tokens, not " + (n + 1);
                }
            }
            progress.printf(Locale.ROOT, "  llama.cpp %s tg%d @ d%d rep %d: %.2f tok/s%n", typeName, n, depth, r + 1, tps[r]);
        }
        return new Cell(typeName, fa, depth, "tg" + n, n, ctx, tps, timing, note);
    }

    /** Greedy (top-k 1) completion of token ids; EOS is ignored so exactly nPredict tokens come out. */
    private void complete(int[] ids, int nPredict, boolean cachePrompt) throws IOException {
        InferenceParameters ip = new InferenceParameters("")
                .setNPredict(nPredict)
                .setIgnoreEos(true)
                .setCachePrompt(cachePrompt)
                .setSamplers(Sampler.TOP_K)
                .setTopK(1)
                .setSeed((int) seed);
        setPromptTokens(ip, ids);
        model.complete(ip);
    }

    /**
     * llama.cpp's server accepts a prompt of token ids (a JSON array); InferenceParameters only offers a
     * string prompt, so the raw JSON value is put into its parameter map.
     */
    @SuppressWarnings("unchecked")
    private void setPromptTokens(InferenceParameters ip, int[] ids) throws IOException {
        StringJoiner j = new StringJoiner(",", "[", "]");
        for (int id : ids) {
            j.add(Integer.toString(id));
        }
        try {
            ((Map<String, String>) jsonParameters.get(ip)).put("prompt", j.toString());
        } catch (IllegalAccessException e) {
            throw new IOException("cannot set a token-id prompt on de.kherud.llama.InferenceParameters", e);
        }
    }

    private static Field jsonParametersField() throws ReflectiveOperationException {
        for (Class<?> c = InferenceParameters.class; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField("parameters");
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // keep looking in the superclass
            }
        }
        throw new NoSuchFieldException("parameters map of de.kherud.llama.InferenceParameters");
    }

    private int[] randomIds(int n, long salt) {
        SplittableRandom rnd = new SplittableRandom(seed * 31 + salt + 7919);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rnd.nextInt(Math.min(vocab, 32000));
        }
        return ids;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Override
    public void close() {
        model.close();
    }
}
