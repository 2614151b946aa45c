package dev.think4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.SharedFixtures;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Greedy decoding from the reference prompt ids must reproduce llama.cpp's tokens, and the first
 * step's top-5 log-probabilities must agree within a per-type tolerance. llama.cpp stores K/V as F16
 * and runs its attention in F16, so even on F32 weights its log-probs of unlikely tokens (around -8)
 * differ from our float32 pass by up to ~5e-3 (measured max over the five prompts: 5.3e-3); the exact
 * float32 arithmetic is checked separately against the float64 perplexity reference. For quantized
 * files the weights' rounding moves log-probs by 0.05-0.15 on this tiny model (llama.cpp's own F32 and
 * Q8_0 runs differ that much), and our products differ from its 8-bit activation path, hence the
 * looser bounds (each is the measured maximum rounded up).
 * <p>Greedy tokens must be equal, except that one flip is tolerated at a near-tie: a step where our
 * log-probs of our token and of the reference token differ by less than the type's tolerance. After
 * such a flip the continuations legitimately diverge and the prompt's comparison ends there. Measured:
 * F32 and Q8_0 match all 320 tokens; F16 and BF16 flip once at a 0.0009 tie; Q4_0 once (margin 0.062).
 */
class LlamaCppReferenceTest {

    static Stream<Arguments> files() {
        return Stream.of(
                Arguments.of("stories260K", 6e-3),
                Arguments.of("stories260K-f16", 6e-3),
                Arguments.of("stories260K-bf16", 2.5e-2),
                Arguments.of("stories260K-q8_0", 0.1),
                Arguments.of("stories260K-q4_0", 0.15));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    void greedyTokensAndTop5MatchLlamaCpp(String name, double logprobTolerance) throws IOException {
        Path modelPath = SharedFixtures.require("models/" + name + ".gguf");
        JsonNode ref = new ObjectMapper().readTree(SharedFixtures.require("reference/llamacpp_" + name + ".json").toFile());
        int flips = 0;
        try (Model model = Model.load(modelPath)) {
            for (JsonNode r : ref.get("results")) {
                int[] prompt = ints(r.get("prompt_ids"));
                int[] expected = ints(r.get("output_ids"));
                List<Integer> got = new ArrayList<>();
                Transformer tf = model.newTransformer(16);
                CompressedKvCache cache = model.newCache(KvPolicy.none());
                float[] logits = new float[model.config().vocabSize()];
                tf.forward(prompt, 0, prompt.length, cache, logits, null);
                double[] logprobs = logSoftmax(logits);
                for (JsonNode pair : r.get("top5_logprobs_first_step")) {
                    int id = pair.get(0).asInt();
                    assertThat(logprobs[id]).as("%s %s: log-prob of token %d", name, r.get("prompt").asText(), id)
                            .isCloseTo(pair.get(1).asDouble(), within(logprobTolerance));
                }
                JsonNode chosen = r.get("chosen_logprobs");
                int compared = expected.length;
                for (int i = 0; i < expected.length; i++) {
                    int next = argmax(logits);
                    double[] lp = logSoftmax(logits);
                    assertThat(lp[expected[i]]).as("%s step %d: log-prob of reference token", name, i)
                            .isCloseTo(chosen.get(i).asDouble(), within(logprobTolerance));
                    if (next != expected[i]) {
                        assertThat(lp[next] - lp[expected[i]])
                                .as("%s '%s' step %d: we pick %d, reference %d; only a near-tie may flip", name,
                                        r.get("prompt").asText(), i, next, expected[i])
                                .isLessThan(logprobTolerance);
                        compared = i;
                        break;
                    }
                    got.add(next);
                    tf.forward(new int[] {next}, 0, 1, cache, logits, null);
                }
                assertThat(got).as("%s greedy continuation of '%s'", name, r.get("prompt").asText())
                        .containsExactly(java.util.Arrays.stream(expected, 0, compared).boxed().toArray(Integer[]::new));
                flips += compared < expected.length ? 1 : 0;
            }
        }
        assertThat(flips).as("%s: near-tie flips over the five prompts", name).isLessThanOrEqualTo(1);
    }

    static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    static int argmax(float[] v) {
        return dev.think4j.generate.Sampler.argmax(v);
    }

    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - lse;
        }
        return out;
    }
}
