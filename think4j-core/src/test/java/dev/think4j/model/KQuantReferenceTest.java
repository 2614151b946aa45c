package dev.think4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.SharedFixtures;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * K-quant models (Q4_K, Q5_K, Q6_K tensors; random weights, so logits are nearly tied by design):
 * feeding the reference engine's own tokens (teacher forcing), our log-probability of each must
 * agree with its {@code chosen_logprobs}. Greedy may flip on near-ties, so only log-probs are
 * compared. The bound (0.02 nats) covers llama.cpp's 8-bit activation rounding against our float
 * activations; the measured maximum is printed.
 */
class KQuantReferenceTest {

    @ParameterizedTest
    @ValueSource(strings = {"synthetic-q4_k_m", "synthetic-q5_k_m"})
    void teacherForcedLogProbsMatch(String name) throws IOException {
        JsonNode ref = new ObjectMapper().readTree(SharedFixtures.require("reference/llamacpp_" + name + ".json").toFile());
        double maxDiff = 0;
        int compared = 0;
        try (Model model = Model.load(SharedFixtures.require("models/" + name + ".gguf"))) {
            for (JsonNode r : ref.get("results")) {
                int[] prompt = LlamaCppReferenceTest.ints(r.get("prompt_ids"));
                int[] output = LlamaCppReferenceTest.ints(r.get("output_ids"));
                Transformer tf = model.newTransformer(16);
                CompressedKvCache cache = model.newCache(KvPolicy.none());
                float[] logits = new float[model.config().vocabSize()];
                tf.forward(prompt, 0, prompt.length, cache, logits, null);
                for (int i = 0; i < output.length; i++) {
                    double lp = LlamaCppReferenceTest.logSoftmax(logits)[output[i]];
                    maxDiff = Math.max(maxDiff, Math.abs(lp - r.get("chosen_logprobs").get(i).asDouble()));
                    compared++;
                    tf.forward(output, i, 1, cache, logits, null);
                }
            }
        }
        System.out.printf("%s: %d teacher-forced log-probs, max |diff| %.5f%n", name, compared, maxDiff);
        assertThat(compared).isGreaterThan(100);
        assertThat(maxDiff).as(name).isLessThan(0.02);
    }
}
