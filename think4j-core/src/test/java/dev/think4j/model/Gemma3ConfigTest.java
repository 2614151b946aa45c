package dev.think4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufWriter;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** llama.cpp's gemma3 hyper-parameter rules, read from metadata alone. */
class Gemma3ConfigTest {
    @TempDir
    Path dir;

    ModelConfig config(int layers, Consumer<GgufWriter> extra) {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "gemma3");
        w.putUInt32("gemma3.embedding_length", 5376);
        w.putUInt32("gemma3.block_count", layers);
        w.putUInt32("gemma3.feed_forward_length", 21504);
        w.putUInt32("gemma3.attention.head_count", 32);
        w.putUInt32("gemma3.attention.head_count_kv", 16);
        w.putUInt32("gemma3.attention.key_length", 128);
        w.putUInt32("gemma3.attention.value_length", 128);
        w.putFloat32("gemma3.rope.freq_base", 1e6f);
        w.putFloat32("gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
        extra.accept(w);
        Path file = dir.resolve("g" + layers + ".gguf");
        w.write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            return ModelConfig.fromGguf(gguf, 262144);
        }
    }

    @Test
    void fiveSlidingLayersThenOneGlobal() {
        ModelConfig c = config(12, w -> w.putUInt32("gemma3.attention.sliding_window", 1024));
        StringBuilder kinds = new StringBuilder();
        for (int l = 0; l < c.layers(); l++) {
            kinds.append(c.sliding(l) ? 'S' : 'G');
        }
        assertThat(kinds.toString()).isEqualTo("SSSSSGSSSSSG");
        assertThat(c.kvWindows()).containsExactly(1024, 1024, 1024, 1024, 1024, 0, 1024, 1024, 1024, 1024, 1024, 0);
        assertThat(c.ropeThetaLocal()).isEqualTo(10000f);
        assertThat(c.ropeTheta()).isEqualTo(1e6f);
        assertThat(c.queryScale()).isEqualTo(1f);
        assertThat(c.gemma()).isTrue();
        assertThat(c.qkNorm()).isTrue();
        assertThat(c.ropeNeox()).isTrue();
    }

    @Test
    void noWindowMeansEveryLayerGlobal() {
        ModelConfig c = config(12, w -> { });
        assertThat(c.slidingLayers()).isNull();
        assertThat(c.sliding(0)).isFalse();
    }

    @Test
    void localBaseFromFileAnd27BScale() {
        ModelConfig c = config(62, w -> {
            w.putUInt32("gemma3.attention.sliding_window", 1024);
            w.putFloat32("gemma3.rope.freq_base_swa", 5000f);
        });
        assertThat(c.ropeThetaLocal()).isEqualTo(5000f);
        // 27B: queries scaled by 1/sqrt(dim / heads) = 1/sqrt(168), not 1/sqrt(head dim 128)
        assertThat(c.queryScale() / Math.sqrt(128)).isCloseTo(1 / Math.sqrt(168), within(1e-7));
    }
}
