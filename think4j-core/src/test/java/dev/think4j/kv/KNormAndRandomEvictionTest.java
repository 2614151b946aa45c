package dev.think4j.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class KNormAndRandomEvictionTest {
    static final KvShape SHAPE = ThinkPressTest.SHAPE;

    /** The L2-norm rule written out plainly: the budget - W lowest-norm older keys, plus the last W. */
    static int[] lowestNorms(List<float[]> keys, int budget, int window) {
        int n = keys.size();
        double[] norm = new double[n];
        for (int t = 0; t < n; t++) {
            double s = 0;
            for (float x : keys.get(t)) {
                s += (double) x * x;
            }
            norm[t] = Math.sqrt(s);
        }
        boolean[] keep = new boolean[n];
        for (int k = 0; k < budget - window; k++) {
            int best = -1;
            for (int t = 0; t < n - window; t++) {
                if (!keep[t] && (best < 0 || norm[t] < norm[best])) {
                    best = t;
                }
            }
            keep[best] = true;
        }
        for (int t = n - window; t < n; t++) {
            keep[t] = true;
        }
        return IntStream.range(0, n).filter(t -> keep[t]).toArray();
    }

    /** Which recorded tokens a head still holds, found by matching its stored rows (full width here). */
    static int[] heldTokens(HeadCache head, List<float[]> recorded) {
        List<Integer> held = new ArrayList<>();
        float[] row = new float[SHAPE.headDim()];
        int from = 0;
        for (int i = 0; i < head.tailLength(); i++) {
            head.tailKeys().row(i, row, 0);
            int t = from;
            while (!Arrays.equals(recorded.get(t), row)) {
                t++;
            }
            held.add(t);
            from = t + 1;
        }
        return held.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Attention over the held tokens equals plain attention over exactly those tokens' keys and values. */
    static void assertAttentionOverHeld(CompressedKvCache cache, ThinkPressTest.Recorded rec, int[][][] held, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] out = new float[SHAPE.queryDim()];
        int d = SHAPE.headDim();
        for (int l = 0; l < SHAPE.layers(); l++) {
            float[] q = ThinkPressTest.random(rnd, SHAPE.queryDim(), null);
            cache.attend(l, q, 0, out, 0);
            for (int h = 0; h < SHAPE.heads(); h++) {
                int g = h / SHAPE.groupSize();
                int[] kept = held[l][g];
                float[][] k = Arrays.stream(kept).mapToObj(rec.keys[l][g]::get).toArray(float[][]::new);
                float[][] v = Arrays.stream(kept).mapToObj(rec.values[l][g]::get).toArray(float[][]::new);
                HeadCache head = cache.head(l, g);
                double[] ref = DenseReference.attend(Arrays.copyOfRange(q, h * d, (h + 1) * d), k, v,
                        head.length() - head.tailLength(), head.keyChannels(), head.valueChannels());
                for (int j = 0; j < d; j++) {
                    assertThat((double) out[h * d + j]).as("layer %d head %d channel %d", l, h, j).isCloseTo(ref[j], within(1e-5));
                }
            }
        }
    }

    @Test
    void knormKeepsTheLowestNormKeysPlusTheWindow() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("knorm:24,window=8"));
        ThinkPressTest.Recorded rec = ThinkPressTest.fill(cache, 70, 61);
        cache.endPrefill();
        int[][][] held = new int[SHAPE.layers()][SHAPE.kvHeads()][];
        for (int l = 0; l < SHAPE.layers(); l++) {
            for (int g = 0; g < SHAPE.kvHeads(); g++) {
                held[l][g] = heldTokens(cache.head(l, g), rec.keys[l][g]);
                assertThat(held[l][g]).as("layer %d head %d", l, g).containsExactly(lowestNorms(rec.keys[l][g], 24, 8));
            }
        }
        assertThat(cache.bytes()).isEqualTo(24L * 2 * 16 * 4 * SHAPE.layers() * SHAPE.kvHeads());
        assertAttentionOverHeld(cache, rec, held, 62);
    }

    @Test
    void randomKeepsTheBudgetAndTheWindowReproduciblyPerSeed() {
        int[][][][] runs = new int[3][][][];
        String[] specs = {"random:24,window=8,seed=5", "random:24,window=8,seed=5", "random:24,window=8,seed=6"};
        for (int r = 0; r < specs.length; r++) {
            CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse(specs[r]));
            ThinkPressTest.Recorded rec = ThinkPressTest.fill(cache, 70, 63);
            cache.endPrefill();
            runs[r] = new int[SHAPE.layers()][SHAPE.kvHeads()][];
            for (int l = 0; l < SHAPE.layers(); l++) {
                for (int g = 0; g < SHAPE.kvHeads(); g++) {
                    int[] held = heldTokens(cache.head(l, g), rec.keys[l][g]);
                    runs[r][l][g] = held;
                    assertThat(held).hasSize(24);
                    assertThat(Arrays.copyOfRange(held, 16, 24)).containsExactly(IntStream.range(62, 70).toArray());
                }
            }
            assertAttentionOverHeld(cache, rec, runs[r], 64);
        }
        assertThat(runs[1]).isDeepEqualTo(runs[0]);
        assertThat(runs[2]).isNotEqualTo(runs[0]);
        // heads draw different tokens (the seed is mixed with layer and head)
        assertThat(runs[0][0][0]).isNotEqualTo(runs[0][0][1]);
    }

    @Test
    void bothComposeWithThinkAndKivi() {
        for (String method : List.of("knorm:40,window=8", "random:40,window=8,seed=3")) {
            // eviction then channel pruning: attention equals the zeroed dense reference over the held tokens
            CompressedKvCache pruned = new CompressedKvCache(SHAPE, KvSpec.parse(method + "+think:0.5,window=8"));
            ThinkPressTest.Recorded rec = ThinkPressTest.fill(pruned, 70, 65);
            pruned.endPrefill();
            int[][][] held = new int[SHAPE.layers()][SHAPE.kvHeads()][];
            for (int l = 0; l < SHAPE.layers(); l++) {
                for (int g = 0; g < SHAPE.kvHeads(); g++) {
                    HeadCache head = pruned.head(l, g);
                    assertThat(head.length()).isEqualTo(40);
                    assertThat(head.keyChannels()).hasSize(8);
                    held[l][g] = method.startsWith("knorm") ? lowestNorms(rec.keys[l][g], 40, 8)
                            : heldPrunedAndTail(head, rec.keys[l][g]);
                }
            }
            assertAttentionOverHeld(pruned, rec, held, 66);

            String all = method + "+think:0.5,window=8+kivi:2,group=8,residual=8";
            assertThat(KvSpec.parse(all).spec()).isEqualTo(all);
            long composed = bytes(all);
            assertThat(composed).isLessThan(bytes(method)).isLessThan(bytes(method + "+think:0.5,window=8"));
        }
        assertThatThrownBy(() -> KvSpec.parse("knorm:8")).hasMessageContaining("must exceed the window 32");
        assertThatThrownBy(() -> KvSpec.parse("random:64,seed=x")).hasMessageContaining("must be an integer");
        assertThatThrownBy(() -> KvSpec.parse("knorm:64+snapkv:64")).hasMessageContaining("at most one method per stage");
    }

    /** Held tokens of a head whose older tokens are pruned: matched on the kept channels, the tail in full. */
    private static int[] heldPrunedAndTail(HeadCache head, List<float[]> recorded) {
        List<Integer> held = new ArrayList<>();
        int[] channels = head.keyChannels();
        float[] row = new float[channels.length];
        int from = 0;
        for (Segment<?, ?> s : head.segments()) {
            for (int i = 0; i < s.tokens(); i++) {
                s.keys().row(i, row, 0);
                int t = from;
                while (!matches(recorded.get(t), channels, row)) {
                    t++;
                }
                held.add(t);
                from = t + 1;
            }
        }
        float[] full = new float[SHAPE.headDim()];
        for (int i = 0; i < head.tailLength(); i++) {
            head.tailKeys().row(i, full, 0);
            int t = from;
            while (!Arrays.equals(recorded.get(t), full)) {
                t++;
            }
            held.add(t);
            from = t + 1;
        }
        return held.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean matches(float[] key, int[] channels, float[] narrowed) {
        for (int c = 0; c < channels.length; c++) {
            if (key[channels[c]] != narrowed[c]) {
                return false;
            }
        }
        return true;
    }

    private static long bytes(String spec) {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse(spec));
        ThinkPressTest.fill(cache, 70, 67);
        cache.endPrefill();
        return cache.bytes();
    }
}
