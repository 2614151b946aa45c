package dev.think4j.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The vectorised attention kernels of every KV layout against a plain computation over the rows
 * each store decodes ({@code row(t)}): q . k_t for scores and sum_t p_t v_t for values. Widths
 * cover full heads (64), ThinK-pruned ones (32, 45: not a multiple of the vector width) and tiny
 * heads (8); token counts cover partial blocks.
 */
class AttentionKernelsTest {
    private static final int[] WIDTHS = {64, 32, 45, 8};
    private static final int[] TOKENS = {32, 96, 160};

    private static float[][] rows(SplittableRandom rnd, int n, int width) {
        float[][] r = new float[n][width];
        for (float[] row : r) {
            for (int c = 0; c < width; c++) {
                row[c] = (float) (rnd.nextGaussian() * (c % 7 == 0 ? 4 : 1));
            }
        }
        return r;
    }

    private static float[] vector(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static final List<BiFunction<float[][], Integer, KeyStore>> KEY_STORES = List.of(
            FloatKeyBlocks::of,
            (r, w) -> new KiviStores.Keys(r, w, 32, 2),
            (r, w) -> new KiviStores.Keys(r, w, 32, 4),
            (r, w) -> new KiviStores.Keys(r, w, 16, 2),
            (r, w) -> blockQuantKeys(GgmlType.Q8_0, r, w),
            (r, w) -> blockQuantKeys(GgmlType.Q4_0, r, w));

    private static final List<BiFunction<float[][], Integer, ValueStore>> VALUE_STORES = List.of(
            (r, w) -> {
                FloatRows f = new FloatRows(w, r.length);
                for (float[] row : r) {
                    f.append(row, 0);
                }
                return f;
            },
            (r, w) -> new KiviStores.Values(r, w, 32, 2),
            (r, w) -> new KiviStores.Values(r, w, 32, 4),
            (r, w) -> new KiviStores.Values(r, w, 16, 4),
            (r, w) -> blockQuant(GgmlType.Q8_0, r, w),
            (r, w) -> blockQuant(GgmlType.Q4_0, r, w));

    private static BlockQuantKeys blockQuantKeys(GgmlType type, float[][] rows, int width) {
        BlockQuantKeys k = new BlockQuantKeys(type, width, 4); // small: growth is exercised too
        k.appendRows(rows);
        return k;
    }

    private static BlockQuantStore blockQuant(GgmlType type, float[][] rows, int width) {
        BlockQuantStore s = new BlockQuantStore(type, width, 4);
        for (float[] row : rows) {
            s.appendRow(row);
        }
        return s;
    }

    @Test
    void keyScoresMatchPlainDotProductsOfDecodedRows() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (var make : KEY_STORES) {
            for (int width : WIDTHS) {
                for (int n : TOKENS) {
                    KeyStore store = make.apply(rows(rnd, n, width), width);
                    float[] q = vector(rnd, width + 3);
                    float[] got = new float[n + 5];
                    store.scores(q, 3, got, 5);
                    float[] row = new float[width];
                    for (int t = 0; t < n; t++) {
                        store.row(t, row, 0);
                        double want = 0;
                        double mag = 0;
                        for (int c = 0; c < width; c++) {
                            want += (double) q[3 + c] * row[c];
                            mag += Math.abs((double) q[3 + c] * row[c]);
                        }
                        assertThat((double) got[5 + t]).as("%s width %d tokens %d token %d", store.getClass().getSimpleName(), width, n, t)
                                .isCloseTo(want, org.assertj.core.api.Assertions.within(1e-5 * mag + 1e-6));
                    }
                }
            }
        }
    }

    @Test
    void valueAccumulationMatchesPlainWeightedSumsOfDecodedRows() {
        SplittableRandom rnd = new SplittableRandom(8);
        for (var make : VALUE_STORES) {
            for (int width : WIDTHS) {
                for (int n : TOKENS) {
                    ValueStore store = make.apply(rows(rnd, n, width), width);
                    float[] p = vector(rnd, n + 2);
                    float[] got = vector(rnd, width + 1);
                    float[] start = got.clone();
                    store.accumulate(p, 2, got, 1);
                    float[] row = new float[width];
                    double[] want = new double[width];
                    double[] mag = new double[width];
                    for (int t = 0; t < n; t++) {
                        store.row(t, row, 0);
                        for (int c = 0; c < width; c++) {
                            want[c] += (double) p[2 + t] * row[c];
                            mag[c] += Math.abs((double) p[2 + t] * row[c]);
                        }
                    }
                    assertThat(got[0]).isEqualTo(start[0]);
                    for (int c = 0; c < width; c++) {
                        assertThat((double) got[1 + c]).as("%s width %d tokens %d channel %d", store.getClass().getSimpleName(), width, n, c)
                                .isCloseTo(start[1 + c] + want[c], org.assertj.core.api.Assertions.within(1e-5 * (mag[c] + 1)));
                    }
                }
            }
        }
    }

    /** Grouped-query passes must give every query exactly the bits of a single-query pass. */
    @Test
    void groupedQueriesGiveExactlyTheSingleQueryResults() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int width : WIDTHS) {
            for (int n : TOKENS) {
                float[][] r = rows(rnd, n, width);
                for (int nq : new int[] {1, 4, 7}) {
                    float[] q = vector(rnd, nq * width);
                    for (var make : KEY_STORES) {
                        KeyStore store = make.apply(r, width);
                        float[] grouped = new float[nq * n];
                        store.scores(q, 0, width, nq, grouped, 0, n);
                        float[] single = new float[nq * n];
                        for (int i = 0; i < nq; i++) {
                            store.scores(q, i * width, single, i * n);
                        }
                        assertThat(grouped).as("%s width %d tokens %d nq %d", store.getClass().getSimpleName(), width, n, nq)
                                .containsExactly(single);
                    }
                    float[] p = vector(rnd, nq * n);
                    for (var make : VALUE_STORES) {
                        ValueStore store = make.apply(r, width);
                        float[] grouped = vector(new SplittableRandom(nq), nq * width);
                        float[] single = grouped.clone();
                        store.accumulate(p, 0, n, nq, grouped, 0, width);
                        for (int i = 0; i < nq; i++) {
                            store.accumulate(p, i * n, single, i * width);
                        }
                        assertThat(grouped).as("%s width %d tokens %d nq %d", store.getClass().getSimpleName(), width, n, nq)
                                .containsExactly(single);
                    }
                }
            }
        }
    }

    /**
     * q8_0/q4_0 keys are stored token-blocked for scoring: they must hold exactly the codes the row
     * layout holds, score any token count (partial last block included) as a dense dot of their
     * decoded rows, give grouped queries the single-query bits, and survive eviction.
     */
    @Test
    void blockQuantKeysMatchRowsForAnyTokenCount() {
        SplittableRandom rnd = new SplittableRandom(13);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0}) {
            for (int width : new int[] {64, 45, 8}) {
                for (int n : new int[] {1, 17, 37, 100}) {
                    float[][] r = rows(rnd, n, width);
                    BlockQuantKeys keys = blockQuantKeys(type, r, width);
                    BlockQuantStore rowsStore = blockQuant(type, r, width);
                    String what = type + " width " + width + " tokens " + n;
                    float[] k = new float[width];
                    float[] v = new float[width];
                    for (int t = 0; t < n; t++) {
                        keys.row(t, k, 0);
                        rowsStore.row(t, v, 0);
                        assertThat(k).as("%s token %d", what, t).containsExactly(v);
                    }
                    int nq = 5;
                    float[] q = vector(rnd, nq * width);
                    float[] grouped = new float[nq * n];
                    keys.scores(q, 0, width, nq, grouped, 0, n);
                    for (int i = 0; i < nq; i++) {
                        float[] single = new float[n];
                        keys.scores(q, i * width, single, 0);
                        assertThat(Arrays.copyOfRange(grouped, i * n, i * n + n)).as("%s query %d", what, i).containsExactly(single);
                        for (int t = 0; t < n; t++) {
                            rowsStore.row(t, v, 0);
                            double want = 0;
                            double mag = 0;
                            for (int c = 0; c < width; c++) {
                                want += (double) q[i * width + c] * v[c];
                                mag += Math.abs((double) q[i * width + c] * v[c]);
                            }
                            assertThat((double) single[t]).as("%s query %d token %d", what, i, t)
                                    .isCloseTo(want, org.assertj.core.api.Assertions.within(1e-5 * mag + 1e-6));
                        }
                    }
                    int[] keep = java.util.stream.IntStream.range(0, n).filter(t -> t % 3 != 1).toArray();
                    keys.retain(keep);
                    rowsStore.retain(keep);
                    assertThat(keys.tokens()).isEqualTo(keep.length);
                    assertThat(keys.bytes()).isEqualTo(rowsStore.bytes());
                    for (int t = 0; t < keep.length; t++) {
                        keys.row(t, k, 0);
                        rowsStore.row(t, v, 0);
                        assertThat(k).as("%s kept token %d", what, t).containsExactly(v);
                    }
                }
            }
        }
    }

    /** Decode-time flushes append to KIVI stores: growing one must equal building it at once. */
    @Test
    void kiviStoresGrownByAppendsEqualStoresBuiltAtOnce() {
        SplittableRandom rnd = new SplittableRandom(12);
        float[][] r = rows(rnd, 160, 64);
        KiviStores.Keys keys = new KiviStores.Keys(Arrays.copyOfRange(r, 0, 32), 64, 32, 2);
        KiviStores.Values values = new KiviStores.Values(Arrays.copyOfRange(r, 0, 1), 64, 32, 4);
        for (int from = 32; from < 160; from += 32) {
            keys.appendRows(Arrays.copyOfRange(r, from, from + 32));
        }
        for (int from = 1, step = 1; from < 160; from += step, step = Math.min(step * 3, 160 - from)) {
            values.appendRows(Arrays.copyOfRange(r, from, from + step));
        }
        KiviStores.Keys keysAtOnce = new KiviStores.Keys(r, 64, 32, 2);
        KiviStores.Values valuesAtOnce = new KiviStores.Values(r, 64, 32, 4);
        assertThat(keys.tokens()).isEqualTo(160);
        assertThat(values.tokens()).isEqualTo(160);
        assertThat(keys.bytes()).isEqualTo(keysAtOnce.bytes());
        assertThat(values.bytes()).isEqualTo(valuesAtOnce.bytes());
        float[] a = new float[64];
        float[] b = new float[64];
        for (int t = 0; t < 160; t++) {
            keys.row(t, a, 0);
            keysAtOnce.row(t, b, 0);
            assertThat(a).containsExactly(b);
            values.row(t, a, 0);
            valuesAtOnce.row(t, b, 0);
            assertThat(a).containsExactly(b);
        }
        float[] q = vector(rnd, 4 * 64);
        float[] s1 = new float[4 * 160];
        float[] s2 = new float[4 * 160];
        keys.scores(q, 0, 64, 4, s1, 0, 160);
        keysAtOnce.scores(q, 0, 64, 4, s2, 0, 160);
        assertThat(s1).containsExactly(s2);
        float[] p = vector(rnd, 4 * 160);
        float[] o1 = new float[4 * 64];
        float[] o2 = new float[4 * 64];
        values.accumulate(p, 0, 160, 4, o1, 0, 64);
        valuesAtOnce.accumulate(p, 0, 160, 4, o2, 0, 64);
        // the zero points' sums are taken per page, and the pages differ (grown: 1, 1, 2, 4, ...
        // tokens; built at once: one page of 160), so only the rounding may differ
        for (int i = 0; i < o1.length; i++) {
            assertThat(o1[i]).as("output %d", i).isCloseTo(o2[i], org.assertj.core.api.Assertions.within(1e-4f * (1 + Math.abs(o2[i]))));
        }
        assertThatThrownBy(() -> keys.appendRows(Arrays.copyOfRange(r, 0, 5))).isInstanceOf(IllegalArgumentException.class);
    }

    /** KIVI keeps scales and zero points as F16 bits and widens them per page with a vector bit trick. */
    @Test
    void halvesWidenToExactlyTheFloatsOfFloat16ToFloat() {
        short[] halves = new short[65536 - 2 * 1024];
        int n = 0;
        for (int h = 0; h < 65536; h++) {
            if ((h & 0x7C00) != 0x7C00) { // not Inf / NaN: scales and zero points are finite
                halves[n++] = (short) h;
            }
        }
        // stored as the pages store them: little-endian halves in native memory, read from half 1
        MemorySegment stored = Arena.ofAuto().allocate(2L * (n + 1));
        MemorySegment.copy(halves, 0, stored, VectorMath.HALF, 2, n);
        float[] got = new float[n + 3];
        VectorMath.halvesToFloats(stored, 1, got, 3, n);
        for (int i = 0; i < n; i++) {
            assertThat(Float.floatToRawIntBits(got[3 + i])).as("half 0x%04x", halves[i] & 0xFFFF)
                    .isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat(halves[i])));
        }
    }

    /** Pages take what remains if it fits, else grow with the store, up to PAGE_TOKENS. */
    @Test
    void kiviPagesAreSizedToTheirRowsAndGrowGeometrically() {
        assertThat(KiviStores.pageTokens(5, 0, 1)).isEqualTo(5);
        assertThat(KiviStores.pageTokens(1, 100, 1)).isEqualTo(100);
        assertThat(KiviStores.pageTokens(1, 5000, 1)).isEqualTo(KiviStores.PAGE_TOKENS);
        assertThat(KiviStores.pageTokens(8192, 0, 1)).isEqualTo(KiviStores.PAGE_TOKENS);
        assertThat(KiviStores.pageTokens(32, 100, 32)).isEqualTo(96);
        assertThat(KiviStores.pageTokens(64, 0, 32)).isEqualTo(64);
    }

    @Test
    void blockedKeysSurviveAppendsRemovalsAndRetains() {
        SplittableRandom rnd = new SplittableRandom(9);
        float[][] r = rows(rnd, 70, 45);
        FloatKeyBlocks k = new FloatKeyBlocks(45, 1);
        for (float[] row : r) {
            k.append(row, 0);
        }
        k.removeFirst(5);
        k.retain(new int[] {0, 1, 17, 40, 64});
        float[] got = new float[45];
        int[] original = {5, 6, 22, 45, 69};
        for (int i = 0; i < original.length; i++) {
            k.row(i, got, 0);
            assertThat(got).containsExactly(r[original[i]]);
        }
        assertThat(k.tokens()).isEqualTo(5);
        assertThat(k.bytes()).isEqualTo(5L * 45 * Float.BYTES);
    }

    /**
     * Decode-time flushes drop the oldest tail tokens every few steps, in place unless the storage is
     * mostly spare: after any mix of appends and removals both tails hold exactly the rows a plain
     * list holds, and score and accumulate them as a dense computation does.
     */
    @Test
    void tailsCompactedInPlaceMatchAPlainList() {
        SplittableRandom rnd = new SplittableRandom(12);
        int width = 24;
        FloatKeyBlocks keys = new FloatKeyBlocks(width, 16);
        FloatRows values = new FloatRows(width, 16);
        List<float[]> model = new java.util.ArrayList<>();
        for (int step = 0; step < 60; step++) {
            int add = step == 30 ? 900 : 1 + rnd.nextInt(40); // one long run, then a big removal: the shrinking path
            for (float[] row : rows(rnd, add, width)) {
                keys.append(row, 0);
                values.append(row, 0);
                model.add(row);
            }
            int drop = step == 30 ? model.size() - 3 : rnd.nextInt(model.size() + 1);
            keys.removeFirst(drop);
            values.removeFirst(drop);
            model.subList(0, drop).clear();

            assertThat(keys.tokens()).isEqualTo(model.size());
            assertThat(values.tokens()).isEqualTo(model.size());
            float[] q = vector(rnd, width);
            float[] p = vector(rnd, model.size());
            float[] scores = new float[model.size()];
            float[] sums = new float[width];
            keys.scores(q, 0, scores, 0);
            values.accumulate(p, 0, sums, 0);
            float[] got = new float[width];
            double[] want = new double[width];
            for (int t = 0; t < model.size(); t++) {
                keys.row(t, got, 0);
                assertThat(got).as("key %d after step %d", t, step).containsExactly(model.get(t));
                values.row(t, got, 0);
                assertThat(got).as("value %d after step %d", t, step).containsExactly(model.get(t));
                double dot = 0;
                for (int c = 0; c < width; c++) {
                    dot += (double) q[c] * model.get(t)[c];
                    want[c] += (double) p[t] * model.get(t)[c];
                }
                assertThat((double) scores[t]).isCloseTo(dot, org.assertj.core.api.Assertions.within(1e-4));
            }
            for (int c = 0; c < width; c++) {
                assertThat((double) sums[c]).isCloseTo(want[c], org.assertj.core.api.Assertions.within(1e-3));
            }
        }
    }

    /** Short softmax rows take a scalar twin of the vector loop; it must give the same bits. */
    @Test
    void scalarExponentialTwinGivesTheVectorLoopsBits() {
        SplittableRandom rnd = new SplittableRandom(14);
        for (int n : new int[] {1, 15, 16, 37, 255, 256, 300, 1000}) {
            float[] v = vector(rnd, n);
            for (int i = 0; i < n; i++) {
                v[i] *= 9f;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (float x : v) {
                max = Math.max(max, x);
            }
            float[] a = v.clone();
            float[] b = v.clone();
            float sa = VectorMath.expInPlace(a, 0, n, max, 0.37f);
            float sb = VectorMath.expInPlaceScalar(b, 0, n, max, 0.37f);
            assertThat(Float.floatToRawIntBits(sb)).as("sum, n %d", n).isEqualTo(Float.floatToRawIntBits(sa));
            assertThat(b).as("exponentials, n %d", n).containsExactly(a);
        }
    }

    @Test
    void expIsWithinTwoUlpOfMathExpAndSoftmaxSumsToOne() {
        for (float x = -87f; x <= 0f; x += 0.0173f) {
            float want = (float) Math.exp(x);
            assertThat(Math.abs(VectorMath.exp(x) - want)).as("exp(%s)", x).isLessThanOrEqualTo(2 * Math.ulp(want));
        }
        assertThat(VectorMath.exp(-1000f)).isBetween(0f, 1e-37f);
        SplittableRandom rnd = new SplittableRandom(10);
        for (int n : new int[] {1, 7, 8, 33, 1000}) {
            float[] v = vector(rnd, n);
            double max = Double.NEGATIVE_INFINITY;
            for (float x : v) {
                max = Math.max(max, x * 5);
            }
            double[] e = new double[n];
            double z = 0;
            for (int i = 0; i < n; i++) {
                e[i] = Math.exp(v[i] * 5 - max);
                z += e[i];
            }
            float[] s = new float[n];
            for (int i = 0; i < n; i++) {
                s[i] = v[i] * 5;
            }
            VectorMath.softmax(s, 0, n);
            for (int i = 0; i < n; i++) {
                assertThat((double) s[i]).isCloseTo(e[i] / z, org.assertj.core.api.Assertions.within(1e-6));
            }
        }
    }
}
