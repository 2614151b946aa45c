package dev.think4j.bench.jmh;

import dev.think4j.tensor.FloatTensor;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decode-path matrix-vector product, {@link FloatTensor#matvec}, per weight type: one op is one full
 * [rows x cols] product (a 2048x2048 matvec is an attention projection of a 1B model, 8192x2048 an FFN one).
 * threads=0 keeps the default pool (all cores).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatvecBench {
    @Param({"F32", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "Q2_K", "Q3_K", "IQ4_NL", "IQ4_XS"})
    public String type;

    @Param({"2048x2048", "8192x2048"})
    public String shape;

    @Param({"0"})
    public int threads;

    private WeightData.Operands m;

    @Setup(Level.Trial)
    public void setUp() {
        m = WeightData.Operands.of(type, shape, threads, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        m.close();
    }

    @Benchmark
    public void matvec(Blackhole bh) {
        m.weights().matvec(m.x(), m.out(), m.rows(), m.cols());
        bh.consume(m.out());
    }
}
