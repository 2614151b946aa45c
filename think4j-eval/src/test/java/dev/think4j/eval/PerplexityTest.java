package dev.think4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.think4j.SharedFixtures;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

class PerplexityTest {

    /** The float64 numpy reference: mean NLL 1.25298, perplexity 3.5008 over 6607 tokens of 20 stories. */
    @Test
    void perplexityOfFirstTwentyStoriesMatchesNumpyReference() {
        List<String> docs = Documents.read(SharedFixtures.require("data/tinystories/tinystories_val_500.txt"), "<|endoftext|>", 20);
        try (Model model = Model.load(SharedFixtures.bundledModel())) {
            Perplexity ppl = new Perplexity(model, Tokenizer.fromGguf(model.gguf()), 64);
            PerplexityResult r = ppl.run(docs, KvPolicy.none(), null, null);
            assertThat(r.tokens()).isEqualTo(6607);
            assertThat(r.perplexity()).isCloseTo(3.5008, within(0.001));
            assertThat(r.meanNll()).isCloseTo(1.25298, within(0.0003));
            assertThat(r.klToFull()).isNaN();
        }
    }

    @Test
    void compressAfterScoresOnlyTheSecondHalfAndFullCacheHasZeroKl() {
        List<String> docs = Documents.read(SharedFixtures.require("data/tinystories/tinystories_val_500.txt"), "<|endoftext|>", 3);
        try (Model model = Model.load(SharedFixtures.bundledModel())) {
            Tokenizer tok = Tokenizer.fromGguf(model.gguf());
            Perplexity ppl = new Perplexity(model, tok, 64);
            long expectedTokens = 0;
            for (String d : docs) {
                int n = tok.encode(d, true, false).length;
                expectedTokens += n - (int) Math.floor(n * 0.5);
            }
            PerplexityResult full = ppl.run(docs, KvPolicy.none(), 0.5, null);
            assertThat(full.tokens()).isEqualTo(expectedTokens);
            // teacher-forced decode with a dense cache scores the same tokens as the plain prefill pass
            PerplexityResult same = ppl.run(docs, KvSpec.parse("think:0"), 0.5, null);
            assertThat(same.meanNll()).isCloseTo(full.meanNll(), within(1e-9));
            assertThat(same.klToFull()).isCloseTo(0.0, within(1e-9));
        }
    }

    @Test
    void klDivergenceMatchesHandComputedValue() {
        float[] p = {0f, (float) Math.log(3)}; // probabilities 1/4, 3/4
        float[] q = {0f, 0f};                  // 1/2, 1/2
        double expected = 0.25 * Math.log(0.25 / 0.5) + 0.75 * Math.log(0.75 / 0.5);
        assertThat(Perplexity.klDivergence(p, q, 2)).isCloseTo(expected, within(1e-6));
        assertThat(Perplexity.klDivergence(p, p, 2)).isCloseTo(0.0, within(1e-9));
        assertThat(Perplexity.logProb(q, 0, 2, 1)).isCloseTo(Math.log(0.5), within(1e-9));
    }
}
