package dev.think4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.think4j.Think4jException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SamplerTest {
    /** log of the given probabilities, so softmax(logits) = probs at temperature 1. */
    static float[] logits(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }

    static Map<Integer, Double> frequencies(SamplerConfig c, double[] probs, int draws) {
        Sampler s = new Sampler(c);
        Map<Integer, Double> f = new HashMap<>();
        for (int i = 0; i < draws; i++) {
            f.merge(s.sample(logits(probs), null, 0), 1.0 / draws, Double::sum);
        }
        return f;
    }

    @Test
    void greedyPicksTheLargestAndTheLowerIndexOnTies() {
        Sampler s = new Sampler(SamplerConfig.greedy());
        assertThat(s.sample(new float[] {1, 3, 2}, null, 0)).isEqualTo(1);
        assertThat(s.sample(new float[] {5, 5, 2}, null, 0)).isEqualTo(0);
    }

    @Test
    void temperatureOneSamplesTheModelDistribution() {
        double[] p = {0.5, 0.3, 0.2};
        Map<Integer, Double> f = frequencies(new SamplerConfig(1f, 0, 1f, 0f, 1f, 64, 42), p, 20_000);
        for (int i = 0; i < 3; i++) {
            assertThat(f.get(i)).isCloseTo(p[i], within(0.015));
        }
    }

    @Test
    void topKTopPAndMinPCutTheTail() {
        double[] p = {0.4, 0.3, 0.2, 0.1};
        assertThat(frequencies(new SamplerConfig(1f, 2, 1f, 0f, 1f, 64, 1), p, 5000).keySet()).containsExactlyInAnyOrder(0, 1);
        // top-p 0.65: 0.4 + 0.3 reaches it, so tokens 0 and 1 remain, renormalized to 4/7 and 3/7
        Map<Integer, Double> f = frequencies(new SamplerConfig(1f, 0, 0.65f, 0f, 1f, 64, 2), p, 20_000);
        assertThat(f.keySet()).containsExactlyInAnyOrder(0, 1);
        assertThat(f.get(0)).isCloseTo(4.0 / 7, within(0.015));
        // min-p 0.4: keep tokens with p >= 0.4 * 0.4 = 0.16
        assertThat(frequencies(new SamplerConfig(1f, 0, 1f, 0.4f, 1f, 64, 3), p, 5000).keySet()).containsExactlyInAnyOrder(0, 1, 2);
    }

    @Test
    void lowTemperatureSharpensAndSameSeedRepeats() {
        double[] p = {0.5, 0.3, 0.2};
        Map<Integer, Double> cold = frequencies(new SamplerConfig(0.25f, 0, 1f, 0f, 1f, 64, 5), p, 10_000);
        // p^(1/T) normalized: 0.5^4 / (0.5^4 + 0.3^4 + 0.2^4) = 0.8567
        assertThat(cold.get(0)).isCloseTo(0.8567, within(0.015));
        Sampler a = new Sampler(new SamplerConfig(1f, 0, 1f, 0f, 1f, 64, 9));
        Sampler b = new Sampler(new SamplerConfig(1f, 0, 1f, 0f, 1f, 64, 9));
        for (int i = 0; i < 100; i++) {
            assertThat(a.sample(logits(p), null, 0)).isEqualTo(b.sample(logits(p), null, 0));
        }
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfRecentTokens() {
        float[] l = {2f, -1f, 1.5f};
        Sampler s = new Sampler(new SamplerConfig(0f, 0, 1f, 0f, 2f, 2, 0));
        // history [2, 0, 1]: only the last 2 (0 and 1) are penalized: 2 -> 1, -1 -> -2; token 2 wins
        assertThat(s.sample(l, new int[] {2, 0, 1}, 3)).isEqualTo(2);
        assertThat(l).containsExactly(1f, -2f, 1.5f);
    }

    @Test
    void invalidSettingsAreClearErrors() {
        assertThatThrownBy(() -> new SamplerConfig(-1f, 0, 1f, 0f, 1f, 64, 0)).isInstanceOf(Think4jException.class)
                .hasMessageContaining("temperature");
        assertThatThrownBy(() -> new SamplerConfig(1f, 0, 0f, 0f, 1f, 64, 0)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> new SamplerConfig(1f, 0, 1f, 1f, 1f, 64, 0)).hasMessageContaining("min-p");
        assertThatThrownBy(() -> new SamplerConfig(1f, -1, 1f, 0f, 1f, 64, 0)).hasMessageContaining("top-k");
    }

    @Test
    void stopStringsAreCutAndNeverShownEvenWhenSplitAcrossPieces() {
        StopStringMatcher m = new StopStringMatcher(List.of("END", "xyz"));
        StringBuilder shown = new StringBuilder();
        for (String piece : new String[] {"hello E", "N", "D world"}) {
            shown.append(m.accept(piece));
            if (m.matched()) {
                break;
            }
        }
        assertThat(m.matched()).isTrue();
        assertThat(shown.toString()).isEqualTo("hello ");
        StopStringMatcher none = new StopStringMatcher(List.of("END"));
        String a = none.accept("the EN");
        assertThat(a).isEqualTo("the ");
        assertThat(none.finish("")).isEqualTo("EN");
        assertThat(none.matched()).isFalse();
    }
}
