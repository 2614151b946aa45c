package dev.think4j.server;

import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import dev.think4j.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * What a replica saves by loading a finished cache from the shared store instead of prefilling the
 * conversation again: for a prompt of P tokens, the prefill (recompute) against the store's read plus
 * the decoding of the session bytes (restore), next to the encoding and the write that the replica
 * that finished the sequence paid. After each repetition the next token's logits from the restored
 * cache are compared with the recomputed cache's: they must be bit-identical.
 */
public final class RestoreBench {
    /**
     * Medians over the repetitions, in milliseconds.
     *
     * @param restoreMs     read plus decode: what a follow-up turn on another replica waits instead of the prefill
     * @param identical     whether every repetition's next-token logits matched bit for bit
     */
    public record Row(String kv, int promptTokens, String store, double recomputeMs, double encodeMs, double writeMs,
                      double readMs, double decodeMs, double restoreMs, double speedup, long storedBytes, long cacheBytes,
                      boolean identical) {
    }

    private RestoreBench() {
    }

    /** Runs {@code repetitions} rounds of prefill, encode, write, read, decode for {@code kvSpec}. */
    public static Row run(Model model, Tokenizer tokenizer, String kvSpec, int promptTokens, KvStore store, int repetitions,
                          long seed, Consumer<String> log) {
        String spec = KvSpec.parse(kvSpec).spec();
        SessionCacheCodec codec = SessionCacheCodec.of(model);
        int[] ids = BatchBench.randomPrompt(tokenizer, model.config().vocabSize(), promptTokens + 1, new SplittableRandom(seed));
        int[] prefix = Arrays.copyOf(ids, promptTokens);
        int ctx = Math.max(model.config().contextLength(), promptTokens + 1);
        Transformer transformer = model.newTransformer(64, ctx);
        int vocab = model.config().vocabSize();
        List<double[]> rounds = new ArrayList<>();
        long storedBytes = 0;
        long cacheBytes = 0;
        boolean identical = true;
        String key = "think4j:bench:" + spec + ":" + promptTokens + ":" + seed;
        for (int r = 0; r < repetitions; r++) {
            CompressedKvCache computed = model.newCache(KvSpec.parse(spec));
            CompressedKvCache restored = null;
            try {
                long t0 = System.nanoTime();
                transformer.forward(prefix, 0, promptTokens, computed, null, null);
                computed.endPrefill();
                long t1 = System.nanoTime();
                byte[] bytes = codec.encode(prefix, computed);
                long t2 = System.nanoTime();
                store.put(key, bytes, Duration.ofMinutes(10));
                long t3 = System.nanoTime();
                byte[] read = store.get(key);
                long t4 = System.nanoTime();
                if (read == null) {
                    throw new IllegalStateException(store.describe() + " lost the value just written (maxmemory too small?)");
                }
                CacheCodec.Decoded d = codec.decode(read, spec);
                restored = d.cache();
                long t5 = System.nanoTime();
                storedBytes = bytes.length;
                cacheBytes = computed.bytes();
                float[] a = new float[vocab];
                float[] b = new float[vocab];
                transformer.forward(ids, promptTokens, 1, computed, a, null);
                transformer.forward(ids, promptTokens, 1, restored, b, null);
                boolean same = Arrays.equals(d.ids(), prefix) && Arrays.equals(a, b);
                identical &= same;
                double[] ms = {(t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6, (t5 - t4) / 1e6};
                rounds.add(ms);
                log.accept(String.format(Locale.ROOT, "  %s p%d: recompute %.1f ms, restore %.1f ms (read %.1f + decode %.1f), "
                                + "encode %.1f ms, write %.1f ms, %d bytes%s", spec, promptTokens, ms[0], ms[3] + ms[4], ms[3], ms[4],
                        ms[1], ms[2], bytes.length, same ? "" : ", LOGITS DIFFER"));
            } finally {
                computed.clear();
                if (restored != null) {
                    restored.clear();
                }
            }
        }
        store.delete(key);
        double recompute = median(rounds, 0);
        double read = median(rounds, 3);
        double decode = median(rounds, 4);
        double restore = medianOf(rounds, m -> m[3] + m[4]);
        return new Row(spec, promptTokens, store.describe(), recompute, median(rounds, 1), median(rounds, 2), read, decode, restore,
                recompute / restore, storedBytes, cacheBytes, identical);
    }

    private static double median(List<double[]> rounds, int i) {
        return medianOf(rounds, m -> m[i]);
    }

    private static double medianOf(List<double[]> rounds, java.util.function.ToDoubleFunction<double[]> f) {
        double[] v = rounds.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    public static String markdown(List<Row> rows, String model) {
        StringBuilder sb = new StringBuilder();
        sb.append("restore vs recompute, ").append(model).append(", store ").append(rows.isEmpty() ? "-" : rows.getFirst().store())
                .append(" (medians, ms)\n\n");
        sb.append("| kv | prompt | recompute | restore | read | decode | speedup | encode | write | stored bytes | cache bytes | identical |\n");
        sb.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1fx | %.1f | %.1f | %d | %d | %s |%n",
                    r.kv(), r.promptTokens(), r.recomputeMs(), r.restoreMs(), r.readMs(), r.decodeMs(), r.speedup(), r.encodeMs(),
                    r.writeMs(), r.storedBytes(), r.cacheBytes(), r.identical() ? "yes" : "NO"));
        }
        return sb.toString();
    }
}
