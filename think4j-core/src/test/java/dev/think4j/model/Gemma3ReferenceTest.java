package dev.think4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvShape;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gemma3 reference fixture (see {@link ArchitectureReferenceTest}) tells the mistakes it is meant
 * to catch apart from float noise: the same teacher-forced comparison with the sliding window
 * switched off or one token too long, or with the sliding layers on the global RoPE base, misses llama.cpp by far more than
 * the tolerance, while the real configuration stays within it. tiny-gemma3 has six layers, five
 * sliding (window 64, base 10000) and one global (base 1e6), and the fixture 300 positions.
 */
class Gemma3ReferenceTest {
    @TempDir
    Path dir;

    @Test
    void wrongWindowOrLocalRopeBaseIsCaught() throws IOException {
        JsonNode fx = ArchitectureReferenceTest.fixture("tiny-gemma3");
        try (Model model = Model.load(ArchitectureReferenceTest.rebuild(fx, dir))) {
            ModelConfig c = model.config();
            assertThat(c.slidingWindow()).isEqualTo(64);
            assertThat(c.sliding(0)).isTrue();
            assertThat(c.sliding(4)).isTrue();
            assertThat(c.sliding(5)).as("every sixth layer is global").isFalse();
            assertThat(c.ropeThetaLocal()).isEqualTo(10000f);

            double right = maxDiff(fx, model, c, model.newCache(KvPolicy.none()));
            KvShape unbounded = new KvShape(c.layers(), c.heads(), c.kvHeads(), c.headDim());
            double noWindow = maxDiff(fx, model, c, new CompressedKvCache(unbounded, KvPolicy.none()));
            int[] longer = c.kvWindows();
            for (int l = 0; l < longer.length; l++) {
                longer[l] += longer[l] > 0 ? 1 : 0;
            }
            double offByOne = maxDiff(fx, model, c,
                    new CompressedKvCache(new KvShape(c.layers(), c.heads(), c.kvHeads(), c.headDim(), longer), KvPolicy.none()));
            ModelConfig globalBase = new ModelConfig(c.architecture(), c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(),
                    c.headDim(), c.vocabSize(), c.contextLength(), c.rmsEps(), c.ropeTheta(), c.ropeDim(), c.ropeNeox(), c.ropeScale(),
                    c.qkvBias(), c.qkNorm(), c.slidingWindow(), c.slidingLayers(), c.ropeTheta(), c.queryScale(), c.gemma());
            double oneBase = maxDiff(fx, model, globalBase, model.newCache(KvPolicy.none()));
            System.out.printf(java.util.Locale.ROOT, "tiny-gemma3 max |dlogprob|: %.2e as configured, %.2e without the window, "
                    + "%.2e with a window of 65, %.2e with one RoPE base%n", right, noWindow, offByOne, oneBase);
            assertThat(right).isLessThan(ArchitectureReferenceTest.GEMMA3_TOLERANCE);
            assertThat(noWindow).as("sliding layers attending to every token").isGreaterThan(20 * ArchitectureReferenceTest.GEMMA3_TOLERANCE);
            assertThat(offByOne).as("a window one token too long").isGreaterThan(20 * ArchitectureReferenceTest.GEMMA3_TOLERANCE);
            assertThat(oneBase).as("sliding layers on the global RoPE base").isGreaterThan(20 * ArchitectureReferenceTest.GEMMA3_TOLERANCE);
        }
    }

    /** Largest |log-prob - llama.cpp| over the fixture's top-5 entries, teacher-forced on its tokens. */
    static double maxDiff(JsonNode fx, Model model, ModelConfig config, KvCache cache) {
        int[] prompt = ArchitectureReferenceTest.ints(fx.get("prompt_ids"));
        int[] tokens = ArchitectureReferenceTest.ints(fx.get("tokens"));
        int[] sequence = new int[prompt.length + tokens.length - 1];
        System.arraycopy(prompt, 0, sequence, 0, prompt.length);
        System.arraycopy(tokens, 0, sequence, prompt.length, tokens.length - 1);
        int vocab = config.vocabSize();
        float[] logits = new float[sequence.length * vocab];
        new Transformer(config, model.weights(), 32).forward(sequence, 0, sequence.length, cache, null, logits);
        double max = 0;
        for (int i = 0; i < tokens.length; i++) {
            int pos = prompt.length - 1 + i;
            double[] lp = LlamaCppReferenceTest.logSoftmax(java.util.Arrays.copyOfRange(logits, pos * vocab, (pos + 1) * vocab));
            for (JsonNode pair : fx.get("top5").get(i)) {
                max = Math.max(max, Math.abs(lp[pair.get(0).asInt()] - pair.get(1).asDouble()));
            }
        }
        return max;
    }
}
