package dev.think4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionTest {
    /** Masking end-of-generation tokens must not change any other choice: the greedy path is the same. */
    @Test
    void ignoreEosRunsToTheLengthLimitAlongTheSameGreedyPath() {
        try (Model m = Model.load(SharedFixtures.bundledModel())) {
            Tokenizer tok = Tokenizer.fromGguf(m.gguf());
            int[] prompt = tok.encode("Once upon a time", true, false);
            GenerationResult normal = new Session(m, tok, KvPolicy.none(), 512, 32)
                    .generate(prompt, 400, SamplerConfig.greedy(), List.of(), null, null);

            Session session = new Session(m, tok, KvPolicy.none(), 512, 32);
            session.setIgnoreEos(true);
            GenerationResult forced = session.generate(prompt, 400, SamplerConfig.greedy(), List.of(), null, null);
            assertThat(forced.stopReason()).isEqualTo(StopReason.LENGTH);
            assertThat(forced.outputIds()).hasSize(400);
            assertThat(Arrays.stream(forced.outputIds()).noneMatch(tok::isEndOfGeneration)).isTrue();
            assertThat(Arrays.copyOf(forced.outputIds(), normal.outputIds().length)).containsExactly(normal.outputIds());
        }
    }
}
