package dev.think4j.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.think4j.SharedFixtures;
import dev.think4j.gguf.GgmlType;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EvictionAndQuantizationTest {
    static final KvShape SHAPE = ThinkPressTest.SHAPE;

    /** SnapKV's selection written out plainly: window attention, summed, max-pooled, top-k + window. */
    static int[] bruteForceSnapKv(HeadCompression h, int budget, int kernel) {
        int n = h.tokenCount();
        int w = h.window();
        int d = h.headDim();
        double[] score = new double[n];
        for (int r = 0; r < h.windowQueries().length; r++) {
            int pos = n - w + r % w;
            double[] e = new double[pos + 1];
            double z = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int s = 0; s <= pos; s++) {
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += (double) h.windowQueries()[r][j] * h.keys()[s][j];
                }
                e[s] = dot / Math.sqrt(d);
                max = Math.max(max, e[s]);
            }
            for (int s = 0; s <= pos; s++) {
                z += Math.exp(e[s] - max);
            }
            for (int s = 0; s <= pos; s++) {
                score[s] += Math.exp(e[s] - max) / z;
            }
        }
        int prefix = n - w;
        double[] pooled = new double[prefix];
        for (int i = 0; i < prefix; i++) {
            pooled[i] = Double.NEGATIVE_INFINITY;
            for (int j = Math.max(0, i - kernel / 2); j <= Math.min(prefix - 1, i + kernel / 2); j++) {
                pooled[i] = Math.max(pooled[i], score[j]);
            }
        }
        boolean[] keep = new boolean[n];
        for (int k = 0; k < budget - w; k++) {
            int best = -1;
            for (int i = 0; i < prefix; i++) {
                if (!keep[i] && (best < 0 || pooled[i] > pooled[best])) {
                    best = i;
                }
            }
            keep[best] = true;
        }
        for (int i = prefix; i < n; i++) {
            keep[i] = true;
        }
        return java.util.stream.IntStream.range(0, n).filter(i -> keep[i]).toArray();
    }

    @Test
    void snapKvKeepsTheBruteForceSelection() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("snapkv:24,window=8"));
        ThinkPressTest.fill(cache, 70, 31);
        for (int l = 0; l < SHAPE.layers(); l++) {
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                HeadCompression view = cache.compressionView(l, g);
                int[] expected = bruteForceSnapKv(view, 24, 7);
                cache.policy().presses().get(0).compress(view);
                assertThat(view.keptTokens()).as("layer %d head %d", l, g).containsExactly(expected);
            }
        }
        cache.endPrefill();
        assertThat(cache.head(0, 0).length()).isEqualTo(24);
        assertThat(cache.bytes()).isEqualTo(24L * 2 * 16 * 4 * SHAPE.layers() * SHAPE.kvHeads());
    }

    @Test
    void pyramidKvShrinksWithDepthAndKeepsTheTotal() {
        SnapKvPress p = (SnapKvPress) KvSpec.parse("pyramidkv:100").presses().get(0);
        int layers = 5;
        int total = 0;
        for (int l = 0; l < layers; l++) {
            total += p.budget(l, layers);
            if (l > 0) {
                assertThat(p.budget(l, layers)).isLessThan(p.budget(l - 1, layers));
            }
        }
        assertThat(total).isEqualTo(500);
    }

    @Test
    void streamingLlmKeepsSinksAndRecentAndStaysFlatOverLongGenerations() {
        try (Model model = Model.load(SharedFixtures.bundledModel())) {
            Transformer tf = model.newTransformer(16);
            CompressedKvCache cache = model.newCache(KvSpec.parse("streamingllm:4,60"));
            int[] prompt = {1, 403, 407, 261, 378};
            float[] logits = new float[model.config().vocabSize()];
            tf.forward(prompt, 0, prompt.length, cache, logits, null);
            cache.endPrefill();
            long flat = -1;
            for (int i = 0; i < 3000; i++) {
                int next = ThinkPressTest.argmax(logits);
                tf.forward(new int[] {next}, 0, 1, cache, logits, null);
                if (i == 100) {
                    flat = cache.bytes();
                }
                if (i > 100 && i % 500 == 0) {
                    assertThat(cache.bytes()).isEqualTo(flat);
                }
            }
            assertThat(flat).isEqualTo(64L * model.kvShape().denseBytesPerToken());
            assertThat(cache.maxLength()).isEqualTo(64);
            assertThat(cache.position()).isEqualTo(3005);
        }
        // which tokens: the first 4 and the last 60, checked on random data with known keys
        CompressedKvCache c = new CompressedKvCache(SHAPE, KvSpec.parse("streamingllm:2,5"));
        ThinkPressTest.Recorded rec = ThinkPressTest.fill(c, 20, 3);
        c.endPrefill();
        float[] row = new float[16];
        HeadCache head = c.head(1, 1);
        assertThat(head.length()).isEqualTo(7);
        int[] expected = {0, 1, 15, 16, 17, 18, 19};
        for (int i = 0; i < 7; i++) {
            head.tailKeys().row(i, row, 0);
            assertThat(row).containsExactly(rec.keys[1][1].get(expected[i]));
        }
    }

    @Test
    void h2oKeepsBudgetRecentWindowAndHeavyHitters() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("h2o:20,recent=6,window=8"));
        ThinkPressTest.Recorded rec = ThinkPressTest.fill(cache, 40, 41);
        HeadCompression view = cache.compressionView(0, 0);
        double[] col = WindowAttention.columnSums(WindowAttention.probabilities(view), 40);
        cache.endPrefill();
        HeadCache head = cache.head(0, 0);
        assertThat(head.length()).isEqualTo(20);
        // the 14 heavy hitters among tokens 0..33 by window attention, then the 6 most recent
        Integer[] order = java.util.stream.IntStream.range(0, 34).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> Double.compare(col[b], col[a]));
        int[] expected = java.util.stream.IntStream.concat(Arrays.stream(order, 0, 14).mapToInt(Integer::intValue),
                java.util.stream.IntStream.range(34, 40)).sorted().toArray();
        float[] row = new float[16];
        for (int i = 0; i < 20; i++) {
            head.tailKeys().row(i, row, 0);
            assertThat(row).containsExactly(rec.keys[0][0].get(expected[i]));
        }
        // decode: never above budget, the newest tokens always present
        SplittableRandom rnd = new SplittableRandom(5);
        float[] out = new float[SHAPE.queryDim()];
        for (int t = 0; t < 30; t++) {
            float[] last = null;
            for (int l = 0; l < SHAPE.layers(); l++) {
                float[] k = ThinkPressTest.random(rnd, SHAPE.kvDim(), null);
                cache.append(l, k, 0, ThinkPressTest.random(rnd, SHAPE.kvDim(), null), 0);
                cache.attend(l, ThinkPressTest.random(rnd, SHAPE.queryDim(), null), 0, out, 0);
                if (l == 0) {
                    last = Arrays.copyOfRange(k, 0, 16);
                }
            }
            cache.advance(1);
            assertThat(cache.maxLength()).isLessThanOrEqualTo(20);
            cache.head(0, 0).tailKeys().row(cache.head(0, 0).tailLength() - 1, row, 0);
            assertThat(row).containsExactly(last);
        }
    }

    static float[][] randomRows(SplittableRandom rnd, int n, int w) {
        float[][] rows = new float[n][w];
        for (float[] r : rows) {
            for (int j = 0; j < w; j++) {
                r[j] = (float) (rnd.nextGaussian() * (1 + j % 3));
            }
        }
        return rows;
    }

    @Test
    void quantizedStoresComputeAttentionOnTheirOwnDequantizedRowsAndBoundTheError() {
        SplittableRandom rnd = new SplittableRandom(9);
        int n = 64;
        for (int w : new int[] {8, 12, 40}) {
            float[][] rows = randomRows(rnd, n, w);
            for (String kind : new String[] {"kivi2", "kivi4", "q8_0", "q4_0"}) {
                KeyStore keys;
                ValueStore values;
                double bound; // max |x - dequantized| relative to the group's value range
                if (kind.startsWith("kivi")) {
                    int bits = kind.endsWith("2") ? 2 : 4;
                    keys = new KiviStores.Keys(rows, w, 32, bits);
                    values = new KiviStores.Values(rows, w, 32, bits);
                    bound = 0.5 / ((1 << bits) - 1) + 0.002;
                    long groupsPerRow = (w + Math.min(32, w) - 1) / Math.min(32, w);
                    assertThat(keys.bytes()).isEqualTo(((long) n * w * bits + 7) / 8 + 4L * (n / 32) * w);
                    assertThat(values.bytes()).isEqualTo(((long) n * w * bits + 7) / 8 + 4L * n * groupsPerRow);
                } else {
                    GgmlType t = kind.equals("q8_0") ? GgmlType.Q8_0 : GgmlType.Q4_0;
                    BlockQuantStore s = new BlockQuantStore(t, w, 1);
                    BlockQuantKeys k = new BlockQuantKeys(t, w, 1);
                    for (float[] r : rows) {
                        s.appendRow(r);
                        k.appendRow(r);
                    }
                    keys = k;
                    values = s;
                    bound = t == GgmlType.Q8_0 ? 0.5 / 127 + 0.002 : 1.0 / 8 + 0.002;
                    long blocks = (w + Math.min(32, w) - 1) / Math.min(32, w);
                    assertThat(s.bytes()).isEqualTo(n * ((t == GgmlType.Q8_0 ? w : (w + 1) / 2) + 2 * blocks));
                    assertThat(k.bytes()).isEqualTo(s.bytes());
                }
                float[][] deqK = new float[n][w];
                float[][] deqV = new float[n][w];
                for (int i = 0; i < n; i++) {
                    keys.row(i, deqK[i], 0);
                    values.row(i, deqV[i], 0);
                }
                double range = 0;
                double maxErr = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < w; j++) {
                        range = Math.max(range, Math.abs(rows[i][j]));
                        maxErr = Math.max(maxErr, Math.abs(rows[i][j] - deqK[i][j]));
                    }
                }
                assertThat(maxErr).as("%s width %d error", kind, w).isLessThanOrEqualTo(bound * 2 * range);
                float[] q = new float[w];
                for (int j = 0; j < w; j++) {
                    q[j] = (float) rnd.nextGaussian();
                }
                Segment seg = new Segment(keys, null, values, null);
                float[] logits = new float[n];
                seg.scores(q, 0, logits, 0, new float[w]);
                double scale = 1 / Math.sqrt(w);
                for (int i = 0; i < n; i++) {
                    double dot = 0;
                    for (int j = 0; j < w; j++) {
                        dot += q[j] * deqK[i][j];
                    }
                    assertThat((double) logits[i]).as(kind).isCloseTo(dot, within(1e-4 * (1 + Math.abs(dot))));
                    logits[i] *= (float) scale;
                }
                VectorMath.softmax(logits, 0, n);
                float[] out = new float[w];
                seg.accumulate(logits, 0, out, 0, new float[w]);
                for (int j = 0; j < w; j++) {
                    double ref = 0;
                    for (int i = 0; i < n; i++) {
                        ref += logits[i] * deqV[i][j];
                    }
                    assertThat((double) out[j]).as(kind).isCloseTo(ref, within(1e-5));
                }
            }
        }
    }

    @Test
    void kiviQuantizesWholeGroupsOutsideTheResidualAndFlushesDuringDecode() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("kivi:2,group=8,residual=16"));
        ThinkPressTest.fill(cache, 60, 51);
        cache.endPrefill();
        HeadCache head = cache.head(0, 0);
        // 60 tokens: floor((60 - 16) / 8) * 8 = 40 quantized, 20 full precision
        assertThat(head.length() - head.tailLength()).isEqualTo(40);
        // 10 decode steps: the tail reaches 24 (flush one group of 8 -> 16), then grows to 22 (below 16 + 8)
        ThinkPressTest.fill(cache, 10, 52);
        assertThat(head.tailLength()).isEqualTo(22);
        // the flushed group is appended to the quantized segment in place, not added as a new one
        assertThat(head.segments()).hasSize(1);
        assertThat(head.segments().getFirst().tokens()).isEqualTo(48);
        assertThat(head.length()).isEqualTo(70);
    }

    /**
     * KIVI pages live outside the heap, so dropping them must free them: a cleared cache releases
     * its stores, and replacing segments releases exactly the stores no longer used.
     */
    @Test
    void kiviStoresAreReleasedWhenDroppedAndOnlyThen() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("kivi:2,group=8,residual=16"));
        ThinkPressTest.fill(cache, 60, 53);
        cache.endPrefill();
        HeadCache head = cache.head(0, 0);
        Segment quantized = head.segments().getFirst();
        KiviStores.Keys keys = (KiviStores.Keys) quantized.keys();
        KiviStores.Values values = (KiviStores.Values) quantized.values();
        float[] before = new float[keys.width()];
        keys.row(7, before, 0);

        head.replaceSegments(List.of(quantized));
        assertThat(keys.isReleased()).as("a segment kept across a replacement").isFalse();
        float[] after = new float[keys.width()];
        keys.row(7, after, 0);
        assertThat(after).containsExactly(before);

        KiviStores.Keys extraKeys = new KiviStores.Keys(rows(new SplittableRandom(5), 8, keys.width()), keys.width(), 8, 2);
        KiviStores.Values extraValues = new KiviStores.Values(rows(new SplittableRandom(6), 8, values.width()), values.width(), 8, 2);
        head.replaceSegments(List.of(quantized, new Segment(extraKeys, null, extraValues, null)));
        head.replaceSegments(List.of(quantized));
        assertThat(extraKeys.isReleased()).as("a dropped segment's keys").isTrue();
        assertThat(extraValues.isReleased()).as("a dropped segment's values").isTrue();
        assertThat(keys.isReleased()).isFalse();

        cache.clear();
        assertThat(keys.isReleased()).as("keys of a cleared cache").isTrue();
        assertThat(values.isReleased()).as("values of a cleared cache").isTrue();
        ThinkPressTest.fill(cache, 60, 54);
        cache.endPrefill();
        assertThat(cache.head(0, 0).length()).as("a cleared cache is usable again").isEqualTo(60);
    }

    private static float[][] rows(SplittableRandom rnd, int n, int width) {
        float[][] r = new float[n][width];
        for (float[] row : r) {
            for (int c = 0; c < width; c++) {
                row[c] = (float) rnd.nextGaussian();
            }
        }
        return r;
    }

    @Test
    void composedSpecIsSmallerThanEachPartOnA200TokenPrompt() {
        try (Model model = Model.load(SharedFixtures.bundledModel())) {
            int[] prompt = new int[200];
            Transformer tf = model.newTransformer(32);
            CompressedKvCache gen = model.newCache(KvPolicy.none());
            prompt[0] = 1;
            prompt[1] = 403;
            float[] logits = new float[model.config().vocabSize()];
            tf.forward(prompt, 0, 2, gen, logits, null);
            for (int i = 2; i < 200; i++) {
                prompt[i] = ThinkPressTest.argmax(logits);
                tf.forward(prompt, i, 1, gen, logits, null);
            }
            long composed = bytesAfterPrefill(model, prompt, "snapkv:64+think:0.5+kivi:2");
            for (String part : new String[] {"snapkv:64", "think:0.5", "kivi:2"}) {
                assertThat(composed).as("vs " + part).isLessThan(bytesAfterPrefill(model, prompt, part));
            }
            assertThat(bytesAfterPrefill(model, prompt, "full")).isEqualTo(200L * model.kvShape().denseBytesPerToken());
        }
    }

    static long bytesAfterPrefill(Model model, int[] prompt, String spec) {
        CompressedKvCache cache = model.newCache(KvSpec.parse(spec));
        model.newTransformer(32).forward(prompt, 0, prompt.length, cache, null, null);
        cache.endPrefill();
        return cache.bytes();
    }

    @Test
    void invalidCompositionsAreClearErrors() {
        assertThatThrownBy(() -> KvSpec.parse("kivi:2+think:0.5")).hasMessageContaining("cannot follow");
        assertThatThrownBy(() -> KvSpec.parse("think:0.5+snapkv:64")).hasMessageContaining("cannot follow");
        assertThatThrownBy(() -> KvSpec.parse("snapkv:64+h2o:64")).hasMessageContaining("at most one method per stage");
        assertThatThrownBy(() -> KvSpec.parse("h2o:64+kivi:2")).hasMessageContaining("cannot drop single tokens from KIVI");
        assertThatThrownBy(() -> KvSpec.parse("kivi:3")).hasMessageContaining("bits must be 2 or 4");
        assertThatThrownBy(() -> KvSpec.parse("snapkv:16")).hasMessageContaining("must exceed the window");
        assertThatThrownBy(() -> KvSpec.parse("streamingllm:4")).hasMessageContaining("SINKS,WINDOW");
        assertThatThrownBy(() -> KvSpec.parse("q8_0:1")).hasMessageContaining("at most 0 positional");
        assertThat(KvSpec.parse("snapkv:512+think:0.5+kivi:2").spec()).isEqualTo("snapkv:512+think:0.5+kivi:2");
        assertThat(KvSpec.parse("h2o:64,mode=prefill+kivi:4").spec()).isEqualTo("h2o:64,mode=prefill+kivi:4");
    }
}
