package dev.think4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvCache;
import dev.think4j.kv.KvPolicy;
import org.junit.jupiter.api.Test;

class TransformerTest {
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317};

    /** The tiled prefill kernel sums in another order than decode's dot kernels: equal within rounding. */
    @Test
    void chunkedPrefillEqualsTokenByToken() {
        try (Model model = Model.load(SharedFixtures.bundledModel())) {
            float[] a = new float[model.config().vocabSize()];
            float[] b = new float[model.config().vocabSize()];
            model.newTransformer(4).forward(PROMPT, 0, PROMPT.length, model.newCache(KvPolicy.none()), a, null);
            Transformer one = model.newTransformer(1);
            CompressedKvCache cache = model.newCache(KvPolicy.none());
            for (int i = 0; i < PROMPT.length; i++) {
                one.forward(PROMPT, i, 1, cache, b, null);
            }
            assertThat(a).containsExactly(b, org.assertj.core.data.Offset.offset(2e-4f));
            assertThat(cache.position()).isEqualTo(PROMPT.length);
        }
    }

    @Test
    void allLogitsRowsEqualLastLogitsOfEachPrefix() {
        try (Model model = Model.load(SharedFixtures.bundledModel())) {
            int vocab = model.config().vocabSize();
            float[] all = new float[PROMPT.length * vocab];
            model.newTransformer(8).forward(PROMPT, 0, PROMPT.length, model.newCache(KvPolicy.none()), null, all);
            for (int n = 1; n <= PROMPT.length; n += 5) {
                float[] last = new float[vocab];
                model.newTransformer(8).forward(PROMPT, 0, n, model.newCache(KvPolicy.none()), last, null);
                float[] row = java.util.Arrays.copyOfRange(all, (n - 1) * vocab, n * vocab);
                assertThat(row).containsExactly(last, org.assertj.core.data.Offset.offset(2e-4f));
            }
        }
    }

    /** Continuous batching must not change any sequence's result: rows are independent. */
    @Test
    void batchedDecodeEqualsSeparateDecodes() {
        try (Model model = Model.load(SharedFixtures.bundledModel())) {
            int vocab = model.config().vocabSize();
            int[][] prompts = {{1, 403, 407}, {1, 317, 269, 274, 287, 263}, {1, 291}};
            int[] next = {261, 377, 376};
            float[][] expected = new float[3][vocab];
            KvCache[] caches = new KvCache[3];
            Transformer tf = model.newTransformer(8);
            for (int i = 0; i < 3; i++) {
                CompressedKvCache solo = model.newCache(KvPolicy.none());
                tf.forward(prompts[i], 0, prompts[i].length, solo, null, null);
                tf.forward(next, i, 1, solo, expected[i], null);
                caches[i] = model.newCache(KvPolicy.none());
                tf.forward(prompts[i], 0, prompts[i].length, caches[i], null, null);
            }
            float[] logits = new float[3 * vocab];
            tf.forwardBatch(next, caches, logits);
            for (int i = 0; i < 3; i++) {
                assertThat(java.util.Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab)).containsExactly(expected[i]);
                assertThat(caches[i].position()).isEqualTo(prompts[i].length + 1);
            }
        }
    }
}
