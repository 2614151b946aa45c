package dev.think4j.bench.jmh;

import dev.think4j.tensor.FloatTensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Prefill's tiled product, {@link FloatTensor#matmul}, of a 2048x2048 weight with a chunk of 64 tokens.
 * Scores are tokens/s through this one matrix (one invocation counts as {@value #TOKENS} operations).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class PrefillMatmulBench {
    static final int TOKENS = 64;

    @Param({"Q8_0", "Q4_0"})
    public String type;

    @Param({"2048x2048"})
    public String shape;

    @Param({"0"})
    public int threads;

    private WeightData.Operands m;

    @Setup(Level.Trial)
    public void setUp() {
        m = WeightData.Operands.of(type, shape, threads, TOKENS);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        m.close();
    }

    @Benchmark
    @OperationsPerInvocation(TOKENS)
    public void matmul(Blackhole bh) {
        m.weights().matmul(m.x(), m.out(), TOKENS, m.rows(), m.cols());
        bh.consume(m.out());
    }
}
