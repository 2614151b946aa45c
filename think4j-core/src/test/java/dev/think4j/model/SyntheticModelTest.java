package dev.think4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.think4j.SharedFixtures;
import dev.think4j.generate.SamplerConfig;
import dev.think4j.generate.Session;
import dev.think4j.gguf.GgmlType;
import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufTensorInfo;
import dev.think4j.kv.KvPolicy;
import dev.think4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SyntheticModelTest {
    @TempDir
    Path dir;

    @Test
    void llama32OneBillionShapeHasTheRightParameterCount() {
        assertThat((double) ModelShape.named("llama-3.2-1b").parameterCount()).isCloseTo(1.24e9, within(0.01 * 1.24e9));
        assertThat((double) ModelShape.named("llama-3-8b").parameterCount()).isCloseTo(8.03e9, within(0.01 * 8.03e9));
        assertThat((double) ModelShape.named("qwen2.5-0.5b").parameterCount()).isCloseTo(0.494e9, within(0.01 * 0.494e9));
    }

    @ParameterizedTest
    @CsvSource({"tiny,Q8_0", "tiny,Q4_0", "tiny-qwen2,F16", "tiny-qwen3,Q8_0", "tiny,Q4_K"})
    void writesLoadsAndGenerates(String shape, String type) {
        ModelShape s = ModelShape.named(shape);
        Path out = dir.resolve(shape + ".gguf");
        SyntheticModel.write(s, GgmlType.valueOf(type), out, 7, SharedFixtures.bundledModel(), null);
        try (Model m = Model.load(out)) {
            long params = m.gguf().tensorList().stream().mapToLong(GgufTensorInfo::elementCount).sum();
            assertThat(params).isEqualTo(s.parameterCount());
            assertThat(m.config().architecture()).isEqualTo(s.architecture());
            assertThat(m.config().qkNorm()).isEqualTo(shape.equals("tiny-qwen3"));
            Tokenizer tok = Tokenizer.fromGguf(m.gguf());
            Session session = new Session(m, tok, KvPolicy.none(), 256, 16);
            var r = session.generate(tok.encode("Once upon a time", true, false), 8, SamplerConfig.greedy(), List.of(), null, null);
            assertThat(r.promptIds()).containsExactly(1, 403, 407, 261, 378);
            assertThat(r.outputIds().length + (r.stopReason().jsonName().equals("eos") ? 1 : 0)).isGreaterThan(0);
        }
    }

    @Test
    void llama3RopeFactorsFollowTheScalingRule() {
        float[] f = SyntheticModel.llama3FreqFactors(64, 500000f, 32f, 1f, 4f, 8192);
        assertThat(f[0]).isEqualTo(1f);            // high frequency: unscaled
        assertThat(f[f.length - 1]).isEqualTo(32f); // lowest frequency: divided by the factor
        for (int i = 1; i < f.length; i++) {
            assertThat(f[i]).isGreaterThanOrEqualTo(f[i - 1]);
        }
        try (GgufFile g = GgufFile.open(SharedFixtures.bundledModel())) {
            assertThat(g.tensor("rope_freqs.weight")).isNull();
        }
    }
}
