package dev.think4j.bench;

import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * llama-bench-like measurements: prefill throughput of {@code p} tokens and decode throughput of
 * {@code n} tokens, each after {@code depth} tokens are already cached (and compressed at that
 * point, as a prompt would be). Token ids are drawn from a seeded generator, so runs repeat.
 *
 * <p>At depth 0 every repetition starts from an empty cache. At a depth, the cache is filled once
 * (which at 8192 tokens of a 1 B model takes minutes) and the repetitions run one after another on
 * it: repetition r starts at depth + r * (test tokens), and each prefill repetition ends with the
 * compression point like a new chat turn. Filling the cache is timed and logged too, and followed by a
 * garbage collection so that its leftovers are not collected inside a timed repetition. Callers
 * run {@link #warmUp} per spec first, so that JIT compilation is not timed.
 */
public final class Bench {
    /** Warm-up prefill is fed in slices of this many tokens so progress can be reported. */
    private static final int WARM_SLICE = 1024;

    private final Model model;
    private final int chunk;
    private final long seed;

    public Bench(Model model, int chunk, long seed) {
        this.model = model;
        this.chunk = chunk;
        this.seed = seed;
    }

    /** Warm-up passes repeat until this much time has gone by: a small model's pass is too short for the JIT. */
    private static final long WARM_UP_NANOS = 1_000_000_000L;

    /**
     * Untimed passes through the code a spec's tests run: a prefill of {@code p} tokens (ending at
     * the compression point) and {@code n} single-token decode steps on a fresh cache, then freed;
     * repeated (at most 50 times) until a second has gone by, so that the JIT's optimizing compiler
     * has finished with the hot loops before anything is timed.
     */
    public void warmUp(KvPolicy policy, int p, int n, Consumer<String> log) {
        long t0 = System.nanoTime();
        Transformer tf = model.newTransformer(chunk);
        float[] logits = new float[model.config().vocabSize()];
        int[] ids = randomIds(Math.max(1, p), 3000);
        int[] gen = randomIds(n, 3001);
        int[] one = new int[1];
        int passes = 0;
        do {
            CompressedKvCache cache = model.newCache(policy);
            tf.forward(ids, 0, ids.length, cache, logits, null);
            cache.endPrefill();
            for (int i = 0; i < n; i++) {
                one[0] = gen[i];
                tf.forward(one, 0, 1, cache, logits, null);
            }
            cache.clear();
            passes++;
        } while (System.nanoTime() - t0 < WARM_UP_NANOS && passes < 50);
        log.accept(String.format(Locale.ROOT, "  warm-up --kv %s: %d x (prefill %d + decode %d tokens) in %.1f s (untimed)",
                policy.spec(), passes, ids.length, n, (System.nanoTime() - t0) / 1e9));
    }

    /** Prefill of {@code p} tokens after {@code depth} cached ones. */
    public BenchResult prefill(KvPolicy policy, int depth, int p, int repetitions, int threads, Consumer<String> log) {
        double[] tps = new double[repetitions];
        Transformer tf = model.newTransformer(chunk);
        CompressedKvCache cache = depth > 0 ? warmCache(tf, policy, depth, log) : null;
        for (int r = 0; r < repetitions; r++) {
            if (depth == 0) {
                if (cache != null) {
                    cache.clear();
                }
                cache = model.newCache(policy);
            }
            int[] ids = randomIds(p, 1000 + r);
            long t0 = System.nanoTime();
            tf.forward(ids, 0, p, cache, new float[model.config().vocabSize()], null);
            cache.endPrefill();
            long t1 = System.nanoTime();
            tps[r] = p / ((t1 - t0) / 1e9);
            log.accept(String.format(Locale.ROOT, "  pp%d @ d%d rep %d: %.2f tok/s", p, depth, r + 1, tps[r]));
        }
        BenchResult result = result(policy, depth, threads, "pp" + p, p, tps, cache.bytes(), cache.uncompressedBytes());
        cache.clear(); // frees quantized pages (outside the heap) before the next test fills its cache
        return result;
    }

    /** Decode of {@code n} tokens (one at a time) after {@code depth} cached ones (at least one). */
    public BenchResult decode(KvPolicy policy, int depth, int n, int repetitions, int threads, Consumer<String> log) {
        return decodeInterleaved(List.of(policy), depth, n, repetitions, threads, log).getFirst();
    }

    /**
     * Decode of {@code n} tokens for several KV specs at one depth, their repetitions interleaved
     * (spec 1 rep 1, spec 2 rep 1, ..., spec 1 rep 2, ...), so that drift in the machine's speed
     * (other tenants, clock changes, JIT state) falls on every spec alike and the ratios between
     * them stay fair. All the caches are filled first and held at once.
     */
    public List<BenchResult> decodeInterleaved(List<KvPolicy> policies, int depth, int n, int repetitions, int threads,
                                               Consumer<String> log) {
        float[] logits = new float[model.config().vocabSize()];
        Transformer tf = model.newTransformer(chunk);
        List<CompressedKvCache> caches = new ArrayList<>();
        for (KvPolicy policy : policies) {
            if (policies.size() > 1) {
                log.accept("  --kv " + policy.spec());
            }
            caches.add(warmCache(tf, policy, Math.max(1, depth), log));
        }
        double[][] tps = new double[policies.size()][repetitions];
        int[] one = new int[1];
        for (int r = 0; r < repetitions; r++) {
            int[] ids = randomIds(n, 2000 + r);
            for (int s = 0; s < policies.size(); s++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    one[0] = ids[i];
                    tf.forward(one, 0, 1, caches.get(s), logits, null);
                }
                long t1 = System.nanoTime();
                tps[s][r] = n / ((t1 - t0) / 1e9);
                log.accept(String.format(Locale.ROOT, "  tg%d @ d%d rep %d%s: %.2f tok/s", n, depth, r + 1,
                        policies.size() > 1 ? " --kv " + policies.get(s).spec() : "", tps[s][r]));
            }
        }
        List<BenchResult> results = new ArrayList<>();
        for (int s = 0; s < policies.size(); s++) {
            CompressedKvCache cache = caches.get(s);
            results.add(result(policies.get(s), depth, threads, "tg" + n, n, tps[s], cache.bytes(), cache.uncompressedBytes()));
            cache.clear();
        }
        return results;
    }

    private CompressedKvCache warmCache(Transformer tf, KvPolicy policy, int depth, Consumer<String> log) {
        CompressedKvCache cache = model.newCache(policy);
        int[] ids = randomIds(depth, 0);
        ids[0] = 1;
        long t0 = System.nanoTime();
        for (int done = 0; done < depth; done += WARM_SLICE) {
            int m = Math.min(WARM_SLICE, depth - done);
            tf.forward(ids, done, m, cache, null, null);
            if (depth > WARM_SLICE) {
                log.accept(String.format(Locale.ROOT, "  filling the cache: %d / %d tokens (%.0f s)", done + m, depth,
                        (System.nanoTime() - t0) / 1e9));
            }
        }
        cache.endPrefill();
        double s = (System.nanoTime() - t0) / 1e9;
        // compression leaves the dense prefill arrays (hundreds of MB at depth) as garbage; collect
        // it here rather than in a pause inside the timed repetitions
        System.gc();
        if (depth > 1) {
            log.accept(String.format(Locale.ROOT, "  depth %d filled in %.1f s (%.2f tok/s); KV %d bytes (dense f32 %d)",
                    depth, s, depth / s, cache.bytes(), cache.uncompressedBytes()));
        }
        return cache;
    }

    private int[] randomIds(int n, long salt) {
        SplittableRandom rnd = new SplittableRandom(seed * 31 + salt);
        int vocab = model.config().vocabSize();
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rnd.nextInt(Math.min(vocab, 32000));
        }
        return ids;
    }

    private static BenchResult result(KvPolicy policy, int depth, int threads, String test, int tokens, double[] tps,
                                      long bytes, long dense) {
        double[] sorted = tps.clone();
        Arrays.sort(sorted);
        return new BenchResult(policy.spec(), depth, threads, test, tokens, tps.length, median(tps), sorted[0],
                sorted[sorted.length - 1], bytes, dense, peakRssBytes());
    }

    /** The middle value, or the mean of the two middle ones for an even count. */
    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Peak resident set size of this process (VmHWM), or -1 where /proc is not available. */
    public static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.trim().split("\\s+");
                    return Long.parseLong(parts[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    public static String markdown(List<BenchResult> results, String modelName) {
        StringBuilder sb = new StringBuilder();
        sb.append("| model | kv | threads | test | t/s (median) | min | max | KV bytes | KV dense f32 | peak RSS |\n");
        sb.append("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (BenchResult r : results) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %s @ d%d | %.2f | %.2f | %.2f | %d | %d | %s |%n",
                    modelName, r.kvSpec(), r.threads(), r.test(), r.depth(), r.medianTokensPerSecond(),
                    r.minTokensPerSecond(), r.maxTokensPerSecond(), r.kvBytes(), r.kvBytesUncompressed(),
                    r.peakRssBytes() < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", r.peakRssBytes() / 1048576.0)));
        }
        return sb.toString();
    }
}
