package dev.think4j.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sliding-window layers (Gemma 3's local layers) hold at most their window: older tokens are freed,
 * and attention equals a dense softmax over the last {@code window} tokens. Layer 0 slides with a
 * window of 12, layer 1 is global.
 */
class SlidingWindowCacheTest {
    static final int WINDOW = 12;
    static final KvShape SHAPE = new KvShape(2, 4, 2, 16, new int[] {WINDOW, 0});
    static final long TOKEN_BYTES_PER_LAYER = 2L * SHAPE.kvDim() * Float.BYTES;

    @Test
    void holdsOnlyTheWindowAndAttendsExactlyOverIt() {
        CompressedKvCache cache = CompressedKvCache.dense(SHAPE);
        SplittableRandom rnd = new SplittableRandom(7);
        List<float[]> keys = new ArrayList<>();
        List<float[]> values = new ArrayList<>();
        float[] out = new float[SHAPE.queryDim()];
        for (int t = 0; t < 50; t++) {
            float[] k = random(rnd, SHAPE.kvDim());
            float[] v = random(rnd, SHAPE.kvDim());
            keys.add(k);
            values.add(v);
            float[] q = random(rnd, SHAPE.queryDim());
            for (int l = 0; l < SHAPE.layers(); l++) {
                cache.append(l, k, 0, v, 0);
                cache.attend(l, q, 0, out, 0);
                int from = l == 0 ? Math.max(0, t + 1 - WINDOW) : 0;
                float[] expected = dense(q, keys.subList(from, t + 1), values.subList(from, t + 1));
                for (int i = 0; i < out.length; i++) {
                    assertThat(out[i]).as("token %d layer %d channel %d", t, l, i).isCloseTo(expected[i], within(1e-5f));
                }
            }
            cache.advance(1);
        }
        assertThat(cache.head(0, 0).length()).isEqualTo(WINDOW);
        assertThat(cache.head(1, 0).length()).isEqualTo(50);
        assertThat(cache.bytes()).isEqualTo((WINDOW + 50) * TOKEN_BYTES_PER_LAYER);
        assertThat(cache.uncompressedBytes()).isEqualTo((WINDOW + 50) * TOKEN_BYTES_PER_LAYER);
        // what the server reserves for a sequence is this bound: exact for a dense cache, windows included
        assertThat(SHAPE.denseBytes(50)).isEqualTo(cache.bytes());
        assertThat(SHAPE.denseBytes(50) - SHAPE.denseBytes(3)).isEqualTo((WINDOW - 3 + 47) * TOKEN_BYTES_PER_LAYER);
    }

    /**
     * Under compression the window layer still never holds more than its window: ThinK prunes its
     * old tokens' channels, q8_0 quantizes them, eviction and KIVI leave it alone (the window is its
     * eviction; KIVI groups cannot drop single tokens).
     */
    @ParameterizedTest
    @ValueSource(strings = {"think:k=0.5,window=4", "think:k=0.5,window=4,flush=4", "snapkv:6,window=4", "h2o:6",
            "streamingllm:2,6", "knorm:6,window=4", "random:6,window=4", "think:budget=0.5,window=4", "kivi:2,group=4,residual=4", "q8_0", "think:k=0.5,window=4+q4_0", "snapkv:8,window=4+think:0.5,window=4+kivi:2,group=4,residual=4"})
    void compressedCachesStayWithinTheWindow(String spec) {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse(spec));
        SplittableRandom rnd = new SplittableRandom(3);
        float[] out = new float[SHAPE.queryDim()];
        for (int t = 0; t < 60; t++) {
            float[] k = random(rnd, SHAPE.kvDim());
            float[] v = random(rnd, SHAPE.kvDim());
            float[] q = random(rnd, SHAPE.queryDim());
            for (int l = 0; l < SHAPE.layers(); l++) {
                cache.append(l, k, 0, v, 0);
                cache.attend(l, q, 0, out, 0);
                for (float o : out) {
                    assertThat(Float.isFinite(o)).isTrue();
                }
            }
            cache.advance(1);
            if (t == 29) {
                cache.endPrefill();
                // adaptive ThinK may leave a head at full width: its allocation is tested below
                if (spec.contains("think") && !spec.contains("budget")) {
                    assertThat(cache.head(0, 0).segments()).as("ThinK prunes the window's tokens older than its own W").hasSize(1);
                    assertThat(cache.head(0, 0).segments().getFirst().tokens()).isEqualTo(WINDOW - 4);
                    assertThat(cache.head(0, 0).keyChannels()).hasSize(8);
                }
            }
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                assertThat(cache.head(0, g).length()).as("%s: window layer after %d tokens", spec, t + 1)
                        .isEqualTo(Math.min(t + 1, WINDOW));
                assertThat(cache.head(0, g).bytes()).isLessThanOrEqualTo(WINDOW * TOKEN_BYTES_PER_LAYER / SHAPE.kvHeads());
            }
        }
        if (spec.contains("flush")) {
            assertThat(cache.head(0, 0).tailLength()).as("flush keeps moving generated tokens into pruned storage").isLessThan(WINDOW);
        }
    }

    @Test
    void onlyEvictionAndKiviSkipWindowLayers() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("snapkv:40+think:0.5+kivi:2"));
        assertThat(cache.pressesFor(1)).hasSize(3);
        assertThat(cache.pressesFor(0)).hasSize(1).first().isInstanceOf(ThinkPress.class);
        assertThat(new CompressedKvCache(SHAPE, KvSpec.parse("q8_0")).pressesFor(0)).hasSize(1);
    }

    /**
     * H2O's decode rule (and with it its attention observer) reaches only global layers; adaptive
     * ThinK's shared budget counts the sliding layer's heads like any other.
     */
    @Test
    void slidingLayersGetNoEvictionRuleButShareTheChannelBudget() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("h2o:6+think:budget=0.5,window=4"));
        SplittableRandom rnd = new SplittableRandom(5);
        float[] out = new float[SHAPE.queryDim()];
        for (int t = 0; t < 10; t++) {
            float[] k = random(rnd, SHAPE.kvDim());
            float[] v = random(rnd, SHAPE.kvDim());
            float[] q = random(rnd, SHAPE.queryDim());
            for (int l = 0; l < SHAPE.layers(); l++) {
                cache.append(l, k, 0, v, 0);
                cache.attend(l, q, 0, out, 0);
            }
            cache.advance(1);
        }
        HeadPlan[][] plans = cache.plans();
        cache.endPrefill();
        for (int g = 0; g < SHAPE.kvHeads(); g++) {
            assertThat(cache.head(0, g).observesAttention()).as("sliding layer head %d", g).isFalse();
            assertThat(cache.head(1, g).observesAttention()).as("global layer head %d", g).isTrue();
            assertThat(plans[0][g].keptTokens()).as("no eviction on the sliding layer").hasSize(10);
        }
        int kept = 0;
        for (HeadPlan[] layer : plans) {
            for (HeadPlan p : layer) {
                kept += p.keyChannels() == null ? SHAPE.headDim() : p.keyChannels().length;
            }
        }
        assertThat(kept).as("key channels kept over all heads, sliding ones included")
                .isCloseTo(SHAPE.layers() * SHAPE.kvHeads() * SHAPE.headDim() / 2, within(SHAPE.headDim() / 2));
    }

    static float[] dense(float[] q, List<float[]> keys, List<float[]> values) {
        int d = SHAPE.headDim();
        float[] out = new float[SHAPE.queryDim()];
        for (int h = 0; h < SHAPE.heads(); h++) {
            int g = h / SHAPE.groupSize();
            double[] w = new double[keys.size()];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < w.length; t++) {
                double s = 0;
                for (int i = 0; i < d; i++) {
                    s += q[h * d + i] * keys.get(t)[g * d + i];
                }
                w[t] = s / Math.sqrt(d);
                max = Math.max(max, w[t]);
            }
            double sum = 0;
            for (int t = 0; t < w.length; t++) {
                w[t] = Math.exp(w[t] - max);
                sum += w[t];
            }
            for (int t = 0; t < w.length; t++) {
                for (int i = 0; i < d; i++) {
                    out[h * d + i] += (float) (w[t] / sum * values.get(t)[g * d + i]);
                }
            }
        }
        return out;
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }
}
