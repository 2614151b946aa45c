package dev.think4j.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AdaptiveThinkTest {
    static final KvShape SHAPE = new KvShape(3, 8, 4, 16);

    /** Appends tokens whose channel magnitudes differ per (layer, KV head), as in real models. */
    static ThinkPressTest.Recorded fill(CompressedKvCache cache, int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        KvShape s = cache.shape();
        double[][] scale = new double[s.layers()][s.kvDim()];
        for (double[] row : scale) {
            for (int j = 0; j < row.length; j++) {
                row[j] = Math.exp(rnd.nextGaussian() * 1.5);
            }
        }
        ThinkPressTest.Recorded rec = new ThinkPressTest.Recorded(s);
        float[] out = new float[s.queryDim()];
        for (int t = 0; t < n; t++) {
            for (int l = 0; l < s.layers(); l++) {
                float[] k = ThinkPressTest.random(rnd, s.kvDim(), scale[l]);
                float[] v = ThinkPressTest.random(rnd, s.kvDim(), null);
                cache.append(l, k, 0, v, 0);
                for (int g = 0; g < s.kvHeads(); g++) {
                    rec.keys[l][g].add(Arrays.copyOfRange(k, g * s.headDim(), (g + 1) * s.headDim()));
                    rec.values[l][g].add(Arrays.copyOfRange(v, g * s.headDim(), (g + 1) * s.headDim()));
                }
                float[] q = new float[s.queryDim()];
                for (int h = 0; h < s.heads(); h++) {
                    float[] qh = ThinkPressTest.random(rnd, s.headDim(), Arrays.copyOfRange(scale[l],
                            h / s.groupSize() * s.headDim(), (h / s.groupSize() + 1) * s.headDim()));
                    System.arraycopy(qh, 0, q, h * s.headDim(), s.headDim());
                }
                cache.attend(l, q, 0, out, 0);
            }
            cache.advance(1);
        }
        return rec;
    }

    static int[][] keptCounts(CompressedKvCache cache) {
        int[][] k = new int[SHAPE.layers()][SHAPE.kvHeads()];
        for (int l = 0; l < SHAPE.layers(); l++) {
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                int[] c = cache.head(l, g).keyChannels();
                k[l][g] = c == null ? SHAPE.headDim() : c.length;
            }
        }
        return k;
    }

    @Test
    void budgetHoldsTheBytesOfUniformThinkAndAttentionMatchesTheDenseReference() {
        for (double r : new double[] {0.5, 0.25}) {
            CompressedKvCache uniform = new CompressedKvCache(SHAPE, KvSpec.parse("think:" + (1 - r)));
            CompressedKvCache adaptive = new CompressedKvCache(SHAPE, KvSpec.parse("think:budget=" + r));
            fill(uniform, 90, 3);
            ThinkPressTest.Recorded rec = fill(adaptive, 90, 3);
            uniform.endPrefill();
            adaptive.endPrefill();
            assertThat((double) adaptive.bytes()).as("R %s", r).isCloseTo(uniform.bytes(), within(0.01 * uniform.bytes()));
            assertThat(adaptive.bytes()).isLessThanOrEqualTo(uniform.bytes());
            int[][] counts = keptCounts(adaptive);
            assertThat(Arrays.stream(counts).flatMapToInt(Arrays::stream).distinct().count())
                    .as("an allocation that differs between heads: %s", Arrays.deepToString(counts)).isGreaterThan(1);
            ThinkPressTest.assertMatchesReference(adaptive, rec, 4);
        }
    }

    @Test
    void allocationRespectsTheMinimumAndAnAbsoluteByteBudget() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("think:budget=0.25,min=3"));
        fill(cache, 90, 5);
        cache.endPrefill();
        assertThat(Arrays.stream(keptCounts(cache)).flatMapToInt(Arrays::stream).min().getAsInt()).isGreaterThanOrEqualTo(3);

        // bytes=N bounds the pruned keys (58 pruned tokens per head: 90 - window 32), index lists counted
        long budget = 40_000;
        CompressedKvCache abs = new CompressedKvCache(SHAPE, KvSpec.parse("think:bytes=" + budget));
        fill(abs, 90, 5);
        abs.endPrefill();
        long keyBytes = 0;
        for (int[] layer : keptCounts(abs)) {
            for (int k : layer) {
                keyBytes += ChannelAllocation.keyBytes(58, k, SHAPE.headDim());
            }
        }
        assertThat(keyBytes).isLessThanOrEqualTo(budget).isGreaterThan(budget - 58L * 4 * SHAPE.headDim());
    }

    /** The error the allocation minimises, written out plainly: zero the dropped channels, attend, compare. */
    @Test
    void outputErrorsEqualAPlainDenseComputation() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("think:budget=0.5,window=8"));
        fill(cache, 40, 7);
        HeadObservation h = cache.observe(1, 2);
        int[] kept = {0, 2, 3, 5, 8, 9, 13, 20, 21, 25, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39};
        int pruned = kept.length - 8;
        double[] scores = ChannelSelection.thinkScores(h, kept);
        int[] ranking = ChannelSelection.ranking(scores);
        double[] errors = ChannelAllocation.outputErrors(h, kept, pruned, ranking);
        int d = SHAPE.headDim();
        int n = h.tokenCount();
        for (int k = 0; k <= d; k++) {
            int[] keep = Arrays.copyOf(ranking, k);
            double expected = 0;
            for (int r = 0; r < h.windowQueries().length; r++) {
                int position = n - h.window() + r % h.window();
                int visible = (int) Arrays.stream(kept).filter(t -> t <= position).count();
                float[][] keys = new float[visible][];
                float[][] values = new float[visible][];
                for (int i = 0; i < visible; i++) {
                    keys[i] = h.keys()[kept[i]];
                    values[i] = h.values()[kept[i]];
                }
                double[] full = DenseReference.attend(h.windowQueries()[r], keys, values, 0, null, null);
                double[] cut = DenseReference.attend(h.windowQueries()[r], keys, values, Math.min(pruned, visible), keep, null);
                for (int j = 0; j < d; j++) {
                    expected += (full[j] - cut[j]) * (full[j] - cut[j]);
                }
            }
            assertThat(errors[k]).as("k = %d", k).isCloseTo(expected, within(1e-9 + 1e-6 * expected));
        }
        assertThat(errors[d]).isZero();
        assertThat(errors[0]).isGreaterThan(errors[d / 2]);
    }

    @Test
    void greedyAllocationStaysInBudgetAndBeatsTheUniformSplitOnItsOwnError() {
        SplittableRandom rnd = new SplittableRandom(9);
        int d = 8;
        ChannelAllocation.Curve[] curves = new ChannelAllocation.Curve[12];
        for (int i = 0; i < curves.length; i++) {
            double[] e = new double[d + 1];
            double scale = Math.exp(rnd.nextGaussian() * 2);
            for (int k = d - 1; k >= 0; k--) {
                e[k] = e[k + 1] + scale * rnd.nextDouble() * (k % 2 == 0 ? 3 : 0.2); // pairs: uneven steps
            }
            curves[i] = new ChannelAllocation.Curve(50, e);
        }
        long budget = 0;
        double uniformError = 0;
        for (ChannelAllocation.Curve c : curves) {
            budget += ChannelAllocation.keyBytes(50, 4, d);
            uniformError += c.errors()[4];
        }
        int[] keep = ChannelAllocation.allocate(curves, d, 1, budget);
        long spent = 0;
        double error = 0;
        for (int i = 0; i < keep.length; i++) {
            assertThat(keep[i]).isBetween(1, d);
            spent += ChannelAllocation.keyBytes(50, keep[i], d);
            error += curves[i].errors()[keep[i]];
        }
        assertThat(spent).isLessThanOrEqualTo(budget).isGreaterThan(budget - 50L * 4 * d);
        assertThat(error).isLessThan(uniformError);
    }

    @Test
    void specs() {
        assertThat(KvSpec.parse("think:budget=0.5").spec()).isEqualTo("think:budget=0.5");
        assertThat(KvSpec.parse("snapkv:64+think:budget=0.25,min=2,v=0.25,window=16+kivi:2").spec())
                .isEqualTo("snapkv:64+think:budget=0.25,min=2,v=0.25,window=16+kivi:2");
        assertThat(KvSpec.parse("think:bytes=100000").spec()).isEqualTo("think:bytes=100000");
        assertThatThrownBy(() -> KvSpec.parse("think:budget=0")).hasMessageContaining("must be in (0, 1]");
        assertThatThrownBy(() -> KvSpec.parse("think:budget=1.5")).hasMessageContaining("must be in (0, 1]");
        assertThatThrownBy(() -> KvSpec.parse("think:0.5,budget=0.5")).hasMessageContaining("give no key ratio");
        assertThatThrownBy(() -> KvSpec.parse("think:budget=0.5,bytes=10")).hasMessageContaining("not both");
        assertThatThrownBy(() -> KvSpec.parse("think:0.5,min=2")).hasMessageContaining("min= goes with budget=");
        assertThatThrownBy(() -> KvSpec.parse("think:budget=0.5,min=0")).hasMessageContaining("min must be >= 1");
        assertThatThrownBy(() -> KvSpec.parse("keynorm:budget=0.5")).hasMessageContaining("unknown option 'budget'");
    }
}
