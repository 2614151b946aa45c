package dev.think4j.bench.jmh;

import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvShape;
import dev.think4j.kv.KvSpec;
import dev.think4j.tensor.Parallel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decode attention of one token over a compressed cache of {@code tokens} cached tokens, one layer shaped
 * like llama-3.2-1b (32 query heads, 8 KV heads, head dim 64). The cache is filled like a prefill
 * (append, attend for the observation window, advance) and compressed by endPrefill() before timing.
 * One op is {@code cache.attend(layer 0, q)} for all 32 heads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBench {
    @Param({"full", "think:0.5", "kivi:2", "think:0.5+kivi:2", "q8_0", "q4_0"})
    public String kv;

    @Param({"4096"})
    public int tokens;

    @Param({"0"})
    public int threads;

    static final int HEADS = 32;
    static final int KV_HEADS = 8;
    static final int HEAD_DIM = 64;

    private CompressedKvCache cache;
    private float[] q;
    private float[] out;
    private long kvBytes;

    @Setup(Level.Trial)
    public void setUp() {
        if (threads > 0) {
            Parallel.setThreads(threads);
        }
        KvShape shape = new KvShape(1, HEADS, KV_HEADS, HEAD_DIM);
        KvPolicy policy = KvSpec.parse(kv);
        cache = new CompressedKvCache(shape, policy);
        SplittableRandom rnd = new SplittableRandom(11);
        float[] k = new float[shape.kvDim()];
        float[] v = new float[shape.kvDim()];
        float[] wq = new float[shape.queryDim()];
        float[] wout = new float[shape.queryDim()];
        int window = Math.max(policy.window(), 1);
        for (int t = 0; t < tokens; t++) {
            fill(rnd, k);
            fill(rnd, v);
            cache.append(0, k, 0, v, 0);
            if (t >= tokens - window) {
                // the last queries of the prompt: the window presses score against
                fill(rnd, wq);
                cache.attend(0, wq, 0, wout, 0);
            }
            cache.advance(1);
        }
        cache.endPrefill();
        kvBytes = cache.bytes();
        System.out.printf(java.util.Locale.ROOT, "%n[AttentionBench] kv=%s tokens=%d cache bytes=%d (%.1f%% of dense f32 %d)%n",
                kv, tokens, kvBytes, 100.0 * kvBytes / cache.uncompressedBytes(), cache.uncompressedBytes());
        q = new float[shape.queryDim()];
        fill(rnd, q);
        out = new float[shape.queryDim()];
    }

    private static void fill(SplittableRandom rnd, float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
    }

    @Benchmark
    public void attend(Blackhole bh) {
        cache.attend(0, q, 0, out, 0);
        bh.consume(out);
    }
}
