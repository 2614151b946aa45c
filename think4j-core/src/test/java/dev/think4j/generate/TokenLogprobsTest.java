package dev.think4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.think4j.SharedFixtures;
import dev.think4j.Think4jException;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import dev.think4j.tokenizer.Tokenizer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenLogprobsTest {
    /** The textbook definition, no tricks: p_i = e^l_i / sum_j e^l_j, then log. Fine while e^l stays finite. */
    private static double[] denseLogSoftmax(float[] logits, int from, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[from + i]);
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.log(Math.exp(logits[from + i]) / sum);
        }
        return out;
    }

    private static void assertTopIsSortedWithIdTies(float[] logits, TokenLogprobs t, int k) {
        assertThat(t.topIds()).hasSize(k);
        for (int i = 1; i < k; i++) {
            float prev = logits[t.topIds()[i - 1]];
            float cur = logits[t.topIds()[i]];
            assertThat(prev > cur || prev == cur && t.topIds()[i - 1] < t.topIds()[i])
                    .as("entry %d (%d: %s) after (%d: %s)", i, t.topIds()[i], cur, t.topIds()[i - 1], prev).isTrue();
        }
        // nothing left out beats the last kept entry
        float last = logits[t.topIds()[k - 1]];
        java.util.Set<Integer> kept = new java.util.HashSet<>();
        for (int id : t.topIds()) {
            kept.add(id);
        }
        for (int i = 0; i < logits.length; i++) {
            if (!kept.contains(i)) {
                assertThat(logits[i] < last || logits[i] == last && i > t.topIds()[k - 1]).as("left out id %d", i).isTrue();
            }
        }
    }

    @Test
    void matchesTheDenseDefinitionOnRandomLogits() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 20; trial++) {
            int n = 1 + rnd.nextInt(3000);
            float[] logits = new float[n + 5];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) (rnd.nextGaussian() * 6);
            }
            int from = 5;
            int k = Math.min(n, rnd.nextInt(21));
            int chosen = rnd.nextInt(n);
            TokenLogprobs t = TokenLogprobs.of(logits, from, n, chosen, k);
            double[] ref = denseLogSoftmax(logits, from, n);
            assertThat(t.id()).isEqualTo(chosen);
            assertThat(t.logprob()).isCloseTo(ref[chosen], within(1e-9));
            for (int i = 0; i < k; i++) {
                assertThat(t.topLogprobs()[i]).isCloseTo(ref[t.topIds()[i]], within(1e-9));
            }
            float[] window = java.util.Arrays.copyOfRange(logits, from, from + n);
            if (k > 0) {
                assertTopIsSortedWithIdTies(window, t, k);
            }
            double total = 0;
            double logZ = TokenLogprobs.logSumExp(logits, from, n);
            for (int i = 0; i < n; i++) {
                total += Math.exp(logits[from + i] - logZ);
            }
            assertThat(total).isCloseTo(1.0, within(1e-12));
        }
    }

    @Test
    void largeLogitsDoNotOverflow() {
        // multiples of 1/8 below 2^11: adding 3000 is exact in float, and the distribution must not move
        SplittableRandom rnd = new SplittableRandom(11);
        float[] small = new float[1000];
        float[] large = new float[1000];
        for (int i = 0; i < small.length; i++) {
            small[i] = rnd.nextInt(-200, 200) / 8f;
            large[i] = small[i] + 3000f;
        }
        assertThat(Math.exp(large[0])).isInfinite(); // the naive formula would give NaN here
        TokenLogprobs a = TokenLogprobs.of(small, 0, small.length, 17, 20);
        TokenLogprobs b = TokenLogprobs.of(large, 0, large.length, 17, 20);
        assertThat(b.topIds()).containsExactly(a.topIds());
        assertThat(b.logprob()).isCloseTo(a.logprob(), within(1e-9));
        for (int i = 0; i < 20; i++) {
            assertThat(b.topLogprobs()[i]).isCloseTo(a.topLogprobs()[i], within(1e-9));
        }
        double[] ref = denseLogSoftmax(small, 0, small.length);
        assertThat(b.logprob()).isCloseTo(ref[17], within(1e-9));
    }

    @Test
    void tiesComeInAscendingIdOrder() {
        float[] logits = {1, 3, 2, 3, 3, 0, 2, 3};
        TokenLogprobs t = TokenLogprobs.of(logits, 0, logits.length, 0, 6);
        assertThat(t.topIds()).containsExactly(1, 3, 4, 7, 2, 6);
        assertThat(t.topLogprobs()[0]).isEqualTo(t.topLogprobs()[3]);
        // a cut through a tie keeps the lowest ids
        assertThat(TokenLogprobs.of(logits, 0, logits.length, 0, 2).topIds()).containsExactly(1, 3);
        assertThat(TokenLogprobs.of(logits, 0, logits.length, 0, 0).topIds()).isEmpty();
        // more alternatives than the vocabulary: all of it
        assertThat(TokenLogprobs.of(new float[] {0, 5}, 0, 2, 0, 2).topIds()).containsExactly(1, 0);
    }

    @Test
    void kOutsideZeroToTwentyIsRefused() {
        assertThatThrownBy(() -> TokenLogprobs.checkTop(21, "--logprobs")).isInstanceOf(Think4jException.class)
                .hasMessage("--logprobs must be in 0..20, got 21");
        assertThatThrownBy(() -> TokenLogprobs.checkTop(-1, "--logprobs")).isInstanceOf(Think4jException.class);
        assertThat(TokenLogprobs.checkTop(0, "x")).isZero();
    }

    /**
     * A session's log-probs are those of the model's raw logits at each generated position: checked
     * against one teacher-forced forward over prompt + output (all positions' logits), while greedy
     * output stays what it is without log-probs and the greedy token is the top one.
     */
    @Test
    void sessionReportsTheRawDistributionOfEveryGeneratedTokenWithoutChangingGreedyOutput() {
        try (Model m = Model.load(SharedFixtures.bundledModel())) {
            Tokenizer tok = Tokenizer.fromGguf(m.gguf());
            int[] prompt = tok.encode("Once upon a time", true, false);
            GenerationResult plain = new Session(m, tok, KvPolicy.none(), 512, 32)
                    .generate(prompt, 24, SamplerConfig.greedy(), List.of(), null, null);
            Session session = new Session(m, tok, KvPolicy.none(), 512, 32);
            session.setLogprobs(5);
            GenerationResult r = session.generate(prompt, 24, SamplerConfig.greedy(), List.of(), null, null);
            assertThat(r.outputIds()).containsExactly(plain.outputIds());
            assertThat(r.text()).isEqualTo(plain.text());
            assertThat(plain.logprobs()).isEmpty();
            assertThat(r.logprobs()).hasSize(r.outputIds().length);

            int vocab = m.config().vocabSize();
            int[] all = new int[prompt.length + r.outputIds().length];
            System.arraycopy(prompt, 0, all, 0, prompt.length);
            System.arraycopy(r.outputIds(), 0, all, prompt.length, r.outputIds().length);
            float[] logits = new float[all.length * vocab];
            Transformer t = m.newTransformer(64);
            t.forward(all, 0, all.length, m.newCache(KvPolicy.none()), null, logits);
            for (int i = 0; i < r.outputIds().length; i++) {
                TokenLogprobs lp = r.logprobs().get(i);
                int row = (prompt.length - 1 + i) * vocab;
                double[] ref = denseLogSoftmax(logits, row, vocab);
                assertThat(lp.id()).isEqualTo(r.outputIds()[i]);
                // decode step versus one prefill pass: the same math in another order, so float-level differences
                assertThat(lp.logprob()).as("token %d", i).isCloseTo(ref[lp.id()], within(1e-3));
                assertThat(lp.topIds()).hasSize(5);
                assertThat(lp.topIds()[0]).as("greedy token is the most likely").isEqualTo(lp.id());
                assertThat(lp.topLogprobs()[0]).isEqualTo(lp.logprob());
                for (int j = 0; j < 5; j++) {
                    assertThat(lp.topLogprobs()[j]).isCloseTo(ref[lp.topIds()[j]], within(1e-3));
                    if (j > 0) {
                        assertThat(lp.topLogprobs()[j]).isLessThanOrEqualTo(lp.topLogprobs()[j - 1]);
                    }
                }
            }
        }
    }

    /** Sampled (not greedy) tokens get the raw logits' log-probs too, not the tempered or truncated ones. */
    @Test
    void sampledTokensReportRawLogprobsAndTheSameDraws() {
        try (Model m = Model.load(SharedFixtures.bundledModel())) {
            Tokenizer tok = Tokenizer.fromGguf(m.gguf());
            int[] prompt = tok.encode("Lily and Ben", true, false);
            SamplerConfig hot = new SamplerConfig(1.5f, 40, 0.95f, 0.05f, 1.3f, 64, 1234L);
            GenerationResult plain = new Session(m, tok, KvPolicy.none(), 512, 32)
                    .generate(prompt, 16, hot, List.of(), null, null);
            Session session = new Session(m, tok, KvPolicy.none(), 512, 32);
            session.setLogprobs(0);
            GenerationResult r = session.generate(prompt, 16, hot, List.of(), null, null);
            assertThat(r.outputIds()).containsExactly(plain.outputIds());
            int vocab = m.config().vocabSize();
            int[] all = new int[prompt.length + r.outputIds().length];
            System.arraycopy(prompt, 0, all, 0, prompt.length);
            System.arraycopy(r.outputIds(), 0, all, prompt.length, r.outputIds().length);
            float[] logits = new float[all.length * vocab];
            m.newTransformer(64).forward(all, 0, all.length, m.newCache(KvPolicy.none()), null, logits);
            for (int i = 0; i < r.outputIds().length; i++) {
                double[] ref = denseLogSoftmax(logits, (prompt.length - 1 + i) * vocab, vocab);
                assertThat(r.logprobs().get(i).logprob()).isCloseTo(ref[r.outputIds()[i]], within(1e-3));
                assertThat(r.logprobs().get(i).topIds()).isEmpty();
            }
        }
    }
}
