package dev.think4j.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.think4j.SharedFixtures;
import dev.think4j.Think4jException;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ThinkPressTest {
    static final KvShape SHAPE = new KvShape(2, 4, 2, 16);

    /** Keys and values as appended, kept to build the dense reference. */
    static final class Recorded {
        final List<float[]>[][] keys;
        final List<float[]>[][] values;

        @SuppressWarnings("unchecked")
        Recorded(KvShape s) {
            keys = new List[s.layers()][s.kvHeads()];
            values = new List[s.layers()][s.kvHeads()];
            for (int l = 0; l < s.layers(); l++) {
                for (int g = 0; g < s.kvHeads(); g++) {
                    keys[l][g] = new ArrayList<>();
                    values[l][g] = new ArrayList<>();
                }
            }
        }
    }

    static float[] random(SplittableRandom rnd, int n, double[] channelScale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * (channelScale == null ? 1 : channelScale[i % channelScale.length]));
        }
        return v;
    }

    /** Appends n random tokens (with channel magnitudes that differ, as in real models) and their queries. */
    static Recorded fill(CompressedKvCache cache, int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        KvShape s = cache.shape();
        double[] scale = new double[s.headDim()];
        for (int j = 0; j < scale.length; j++) {
            scale[j] = 0.2 + rnd.nextDouble() * 3;
        }
        Recorded rec = new Recorded(s);
        float[] out = new float[s.queryDim()];
        for (int t = 0; t < n; t++) {
            for (int l = 0; l < s.layers(); l++) {
                float[] k = random(rnd, s.kvDim(), scale);
                float[] v = random(rnd, s.kvDim(), null);
                cache.append(l, k, 0, v, 0);
                for (int g = 0; g < s.kvHeads(); g++) {
                    rec.keys[l][g].add(java.util.Arrays.copyOfRange(k, g * s.headDim(), (g + 1) * s.headDim()));
                    rec.values[l][g].add(java.util.Arrays.copyOfRange(v, g * s.headDim(), (g + 1) * s.headDim()));
                }
                cache.attend(l, random(rnd, s.queryDim(), scale), 0, out, 0);
            }
            cache.advance(1);
        }
        return rec;
    }

    static void assertMatchesReference(CompressedKvCache cache, Recorded rec, long seed) {
        KvShape s = cache.shape();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] out = new float[s.queryDim()];
        for (int l = 0; l < s.layers(); l++) {
            float[] q = random(rnd, s.queryDim(), null);
            cache.attend(l, q, 0, out, 0);
            for (int h = 0; h < s.heads(); h++) {
                int g = h / s.groupSize();
                HeadCache head = cache.head(l, g);
                int pruned = head.length() - head.tailLength();
                double[] ref = DenseReference.attend(java.util.Arrays.copyOfRange(q, h * s.headDim(), (h + 1) * s.headDim()),
                        rec.keys[l][g].toArray(float[][]::new), rec.values[l][g].toArray(float[][]::new), pruned,
                        head.keyChannels(), head.valueChannels());
                for (int j = 0; j < s.headDim(); j++) {
                    assertThat((double) out[h * s.headDim() + j]).as("layer %d head %d channel %d", l, h, j)
                            .isCloseTo(ref[j], within(1e-5));
                }
            }
        }
    }

    @Test
    void compactAttentionEqualsZeroedDenseReferenceOnRandomData() {
        for (String spec : List.of("think:0.5", "think:0.25,window=8", "think:k=0.75,v=0.5,window=4", "keynorm:0.5")) {
            CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse(spec));
            Recorded rec = fill(cache, 60, 1);
            cache.endPrefill();
            assertThat(cache.head(0, 0).keyChannels()).as(spec).isNotNull();
            assertMatchesReference(cache, rec, 2);
            // decode more tokens (full width) and check again
            SplittableRandom rnd = new SplittableRandom(3);
            float[] out = new float[SHAPE.queryDim()];
            for (int t = 0; t < 5; t++) {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    float[] k = random(rnd, SHAPE.kvDim(), null);
                    float[] v = random(rnd, SHAPE.kvDim(), null);
                    cache.append(l, k, 0, v, 0);
                    for (int g = 0; g < SHAPE.kvHeads(); g++) {
                        rec.keys[l][g].add(java.util.Arrays.copyOfRange(k, g * 16, (g + 1) * 16));
                        rec.values[l][g].add(java.util.Arrays.copyOfRange(v, g * 16, (g + 1) * 16));
                    }
                    cache.attend(l, random(rnd, SHAPE.queryDim(), null), 0, out, 0);
                }
                cache.advance(1);
            }
            assertMatchesReference(cache, rec, 4);
        }
    }

    @Test
    void keyBytesAreExactlyPrunedPlusWindowPlusIndexList() {
        int n = 100;
        int w = 32;
        int d = SHAPE.headDim();
        for (double lambda : new double[] {0.25, 0.5, 0.75}) {
            CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("think:" + lambda));
            fill(cache, n, 5);
            cache.endPrefill();
            int kept = d - (int) Math.floor(lambda * d);
            long keysPerHead = ((long) (n - w) * kept + (long) w * d) * Float.BYTES + (long) kept * Integer.BYTES;
            long valuesPerHead = (long) n * d * Float.BYTES;
            long heads = (long) SHAPE.layers() * SHAPE.kvHeads();
            assertThat(cache.bytes()).as("lambda %s", lambda).isEqualTo(heads * (keysPerHead + valuesPerHead));
            assertThat(cache.uncompressedBytes()).isEqualTo(heads * 2L * n * d * Float.BYTES);
        }
        // with value pruning: values of the pruned tokens are narrowed too, plus their index list
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("think:k=0.5,v=0.25"));
        fill(cache, n, 5);
        cache.endPrefill();
        int kk = 8;
        int kv = 12;
        long perHead = (((long) (n - w) * kk + (long) w * d) + ((long) (n - w) * kv + (long) w * d)) * Float.BYTES
                + (long) (kk + kv) * Integer.BYTES;
        assertThat(cache.bytes()).isEqualTo(perHead * SHAPE.layers() * SHAPE.kvHeads());
    }

    @Test
    void chosenChannelsHaveTheHighestScoresByBruteForce() {
        SplittableRandom rnd = new SplittableRandom(11);
        int d = 6;
        for (int trial = 0; trial < 200; trial++) {
            double[] scores = new double[d];
            for (int j = 0; j < d; j++) {
                scores[j] = rnd.nextInt(4); // many ties
            }
            int keep = 1 + rnd.nextInt(d - 1);
            int[] kept = ChannelSelection.top(scores, keep);
            // brute force: the best subset by total score, ties broken by the lexicographically smallest index set
            int bestMask = -1;
            double bestSum = -1;
            for (int mask = 0; mask < 1 << d; mask++) {
                if (Integer.bitCount(mask) != keep) {
                    continue;
                }
                double sum = 0;
                for (int j = 0; j < d; j++) {
                    if ((mask >> j & 1) == 1) {
                        sum += scores[j];
                    }
                }
                if (sum > bestSum || sum == bestSum && lexSmaller(mask, bestMask, d)) {
                    bestSum = sum;
                    bestMask = mask;
                }
            }
            int mask = 0;
            for (int j : kept) {
                mask |= 1 << j;
            }
            assertThat(mask).as("scores %s keep %d", java.util.Arrays.toString(scores), keep).isEqualTo(bestMask);
        }
    }

    private static boolean lexSmaller(int a, int b, int d) {
        for (int j = 0; j < d; j++) {
            boolean ia = (a >> j & 1) == 1;
            boolean ib = (b >> j & 1) == 1;
            if (ia != ib) {
                return ia;
            }
        }
        return false;
    }

    @Test
    void scoreIsProductOfSquaredQueryAndKeyNormsOverTheGroupsOwnHeads() {
        // KV head 1's group (query heads 2 and 3) puts all its query energy on channel 5;
        // KV head 0's group on channel 2. Keys have equal norms everywhere.
        KvShape s = new KvShape(1, 4, 2, 8);
        CompressedKvCache cache = new CompressedKvCache(s, KvSpec.parse("think:0.875,window=4"));
        float[] out = new float[s.queryDim()];
        for (int t = 0; t < 10; t++) {
            float[] k = new float[s.kvDim()];
            java.util.Arrays.fill(k, 1f);
            cache.append(0, k, 0, k, 0);
            float[] q = new float[s.queryDim()];
            q[0 * 8 + 2] = 1f;
            q[1 * 8 + 2] = 2f;
            q[2 * 8 + 5] = 1f;
            q[3 * 8 + 5] = 3f;
            cache.attend(0, q, 0, out, 0);
            cache.advance(1);
        }
        HeadCompression view0 = cache.compressionView(0, 0);
        double[] scores0 = ChannelSelection.thinkScores(view0);
        // 4 window positions x (1^2 + 2^2) = 20 on channel 2, times 10 keys x 1^2
        assertThat(scores0[2]).isCloseTo(200.0, within(1e-9));
        assertThat(scores0[5]).isZero();
        assertThat(ChannelSelection.thinkScores(cache.compressionView(0, 1))[5]).isCloseTo(4 * 10.0 * 10, within(1e-9));
        cache.endPrefill();
        assertThat(cache.head(0, 0).keyChannels()).containsExactly(2);
        assertThat(cache.head(0, 1).keyChannels()).containsExactly(5);
    }

    @Test
    void windowLargerThanPromptPrunesNothing() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("think:0.5,window=64"));
        fill(cache, 40, 3);
        cache.endPrefill();
        assertThat(cache.head(0, 0).keyChannels()).isNull();
        assertThat(cache.head(1, 1).segments()).isEmpty();
        assertThat(cache.bytes()).isEqualTo(cache.uncompressedBytes());
    }

    @Test
    void perLayerLambdas() {
        CompressedKvCache cache = new CompressedKvCache(SHAPE, KvSpec.parse("think:layers=0.25/0.75"));
        fill(cache, 50, 9);
        cache.endPrefill();
        assertThat(cache.head(0, 0).keyChannels()).hasSize(12);
        assertThat(cache.head(1, 0).keyChannels()).hasSize(4);
        CompressedKvCache wrong = new CompressedKvCache(SHAPE, KvSpec.parse("think:layers=0.25/0.5/0.75"));
        fill(wrong, 50, 9);
        assertThatThrownBy(wrong::endPrefill).isInstanceOf(Think4jException.class)
                .hasMessageContaining("lists 3 ratios but the model has 2 layers");
    }

    @Test
    void badSpecsAreClearErrors() {
        assertThatThrownBy(() -> KvSpec.parse("think:1.0")).hasMessageContaining("key ratio must be in [0, 1)");
        assertThatThrownBy(() -> KvSpec.parse("think:-0.1")).hasMessageContaining("key ratio must be in [0, 1)");
        assertThatThrownBy(() -> KvSpec.parse("think:0.5,foo=1")).hasMessageContaining("unknown option 'foo'");
        assertThatThrownBy(() -> KvSpec.parse("think")).hasMessageContaining("missing the key pruning ratio");
        assertThatThrownBy(() -> KvSpec.parse("think:abc")).hasMessageContaining("must be a number");
        assertThatThrownBy(() -> KvSpec.parse("keynorm:0.5,v=0.2")).hasMessageContaining("unknown option 'v'");
        assertThatThrownBy(() -> KvSpec.parse("think:0.5,window=0")).hasMessageContaining("window must be >= 1");
        assertThat(KvSpec.parse("think:k=0.5,v=0.3,window=16,flush=8").spec()).isEqualTo("think:0.5,v=0.3,window=16,flush=8");
    }

    @Test
    void flushMovesGeneratedTokensIntoPrunedStorage() {
        CompressedKvCache flushing = new CompressedKvCache(SHAPE, KvSpec.parse("think:0.5,window=8,flush=16"));
        CompressedKvCache plain = new CompressedKvCache(SHAPE, KvSpec.parse("think:0.5,window=8"));
        Recorded rec = fill(flushing, 40, 21);
        fill(plain, 40, 21);
        flushing.endPrefill();
        plain.endPrefill();
        SplittableRandom a = new SplittableRandom(22);
        SplittableRandom b = new SplittableRandom(22);
        float[] out = new float[SHAPE.queryDim()];
        for (int t = 0; t < 48; t++) {
            for (int l = 0; l < SHAPE.layers(); l++) {
                float[] k = random(a, SHAPE.kvDim(), null);
                float[] v = random(a, SHAPE.kvDim(), null);
                flushing.append(l, k, 0, v, 0);
                plain.append(l, random(b, SHAPE.kvDim(), null), 0, random(b, SHAPE.kvDim(), null), 0);
                for (int g = 0; g < SHAPE.kvHeads(); g++) {
                    rec.keys[l][g].add(java.util.Arrays.copyOfRange(k, g * 16, (g + 1) * 16));
                    rec.values[l][g].add(java.util.Arrays.copyOfRange(v, g * 16, (g + 1) * 16));
                }
                flushing.attend(l, random(a, SHAPE.queryDim(), null), 0, out, 0);
                plain.attend(l, random(b, SHAPE.queryDim(), null), 0, out, 0);
            }
            flushing.advance(1);
            plain.advance(1);
        }
        // after 48 generated tokens (flushes at 16, 32, 48) only the last 8 stay full width
        assertThat(flushing.head(0, 0).tailLength()).isEqualTo(8);
        assertThat(plain.head(0, 0).tailLength()).isEqualTo(8 + 48);
        assertThat(flushing.bytes()).isLessThan(plain.bytes());
        assertMatchesReference(flushing, rec, 23);
    }

    /** On the real model: lambda 0 is the full cache exactly, and compressed decode equals the zeroed reference. */
    @Test
    void onStories260K() {
        int[] prompt = new int[80];
        try (Model model = Model.load(SharedFixtures.bundledModel())) {
            // a real 80-token prompt: greedy continuation of "Once upon a time"
            Transformer tf = model.newTransformer(16);
            CompressedKvCache gen = model.newCache(KvPolicy.none());
            int[] start = {1, 403, 407, 261, 378};
            System.arraycopy(start, 0, prompt, 0, start.length);
            float[] logits = new float[model.config().vocabSize()];
            tf.forward(start, 0, start.length, gen, logits, null);
            for (int i = start.length; i < prompt.length; i++) {
                prompt[i] = argmax(logits);
                tf.forward(prompt, i, 1, gen, logits, null);
            }
            float[][] full = decode(model, KvPolicy.none(), prompt, 12);
            float[][] zero = decode(model, KvSpec.parse("think:0"), prompt, 12);
            for (int i = 0; i < full.length; i++) {
                assertThat(zero[i]).containsExactly(full[i]);
            }
            // compressed: wrap the cache and compare every attention output with the dense reference
            ReferenceCheckingCache checking = new ReferenceCheckingCache(model.newCache(KvSpec.parse("think:0.5,v=0.25")));
            Transformer t2 = model.newTransformer(16);
            t2.forward(prompt, 0, prompt.length, checking, logits, null);
            checking.endPrefill();
            int next = argmax(logits);
            for (int i = 0; i < 12; i++) {
                t2.forward(new int[] {next}, 0, 1, checking, logits, null);
                next = argmax(logits);
            }
            assertThat(checking.comparisons).isGreaterThan(0);
            assertThat(checking.maxError).isLessThan(1e-5);
            assertThat(checking.inner.bytes()).isLessThan(checking.inner.uncompressedBytes());
        }
    }

    static float[][] decode(Model model, KvPolicy policy, int[] prompt, int steps) {
        Transformer tf = model.newTransformer(16);
        CompressedKvCache cache = model.newCache(policy);
        float[][] out = new float[steps][model.config().vocabSize()];
        float[] logits = new float[model.config().vocabSize()];
        tf.forward(prompt, 0, prompt.length, cache, logits, null);
        cache.endPrefill();
        for (int i = 0; i < steps; i++) {
            tf.forward(new int[] {argmax(logits)}, 0, 1, cache, out[i], null);
            logits = out[i].clone();
        }
        return out;
    }

    static int argmax(float[] v) {
        return dev.think4j.generate.Sampler.argmax(v);
    }

    /**
     * A KvCache that forwards to a compressed cache and, after compression, recomputes every
     * attention output from its own full-width copy with the pruned channels zeroed.
     */
    static final class ReferenceCheckingCache implements KvCache {
        final CompressedKvCache inner;
        final Recorded rec;
        boolean compressed;
        double maxError;
        int comparisons;

        ReferenceCheckingCache(CompressedKvCache inner) {
            this.inner = inner;
            this.rec = new Recorded(inner.shape());
        }

        @Override
        public KvShape shape() {
            return inner.shape();
        }

        @Override
        public int position() {
            return inner.position();
        }

        @Override
        public void append(int layer, float[] k, int kOff, float[] v, int vOff) {
            inner.append(layer, k, kOff, v, vOff);
            int d = shape().headDim();
            for (int g = 0; g < shape().kvHeads(); g++) {
                rec.keys[layer][g].add(java.util.Arrays.copyOfRange(k, kOff + g * d, kOff + (g + 1) * d));
                rec.values[layer][g].add(java.util.Arrays.copyOfRange(v, vOff + g * d, vOff + (g + 1) * d));
            }
        }

        @Override
        public void attend(int layer, float[] q, int qOff, float[] out, int outOff) {
            inner.attend(layer, q, qOff, out, outOff);
            if (!compressed) {
                return;
            }
            int d = shape().headDim();
            for (int h = 0; h < shape().heads(); h++) {
                int g = h / shape().groupSize();
                HeadCache head = inner.head(layer, g);
                double[] ref = DenseReference.attend(java.util.Arrays.copyOfRange(q, qOff + h * d, qOff + (h + 1) * d),
                        rec.keys[layer][g].toArray(float[][]::new), rec.values[layer][g].toArray(float[][]::new),
                        head.length() - head.tailLength(), head.keyChannels(), head.valueChannels());
                for (int j = 0; j < d; j++) {
                    maxError = Math.max(maxError, Math.abs(out[outOff + h * d + j] - ref[j]));
                }
                comparisons++;
            }
        }

        @Override
        public void advance(int tokens) {
            inner.advance(tokens);
        }

        @Override
        public void endPrefill() {
            inner.endPrefill();
            compressed = true;
        }

        @Override
        public long bytes() {
            return inner.bytes();
        }

        @Override
        public void clear() {
            throw new UnsupportedOperationException();
        }
    }
}
