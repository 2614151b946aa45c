package dev.think4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.think4j.SharedFixtures;
import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import dev.think4j.tokenizer.Tokenizer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RulerNiahTaskTest {
    static final String HAY = "Tom had a red ball. He liked to play with it in the park! One day it rolled away.\nHe was sad. ";

    static Tokenizer tokenizer() {
        try (GgufFile g = GgufFile.open(SharedFixtures.bundledModel())) {
            return Tokenizer.fromGguf(g);
        }
    }

    @Test
    void promptsFollowTheRulerWordingAndHitTheLength() {
        Tokenizer tok = tokenizer();
        List<String> keys = RulerNiahTask.keys();
        List<Example> ex = RulerNiahTask.examples(tok, HAY, List.of(300, 700), List.of(0.0, 50.0, 100.0), 3, 2, 7, 16, 2048);
        assertThat(ex).hasSize(12);
        for (Example e : ex) {
            String key = e.meta().path("needle_key").asText();
            String number = e.meta().path("number").asText();
            assertThat(keys).contains(key);
            assertThat(number).hasSize(7);
            assertThat(number.chars().map(c -> c - '0').sum() % 10).isEqualTo(3);
            assertThat(e.prompt()).startsWith(RulerNiahTask.PREAMBLE + "\n")
                    .endsWith("\n" + RulerNiahTask.QUESTION.formatted(key))
                    .contains(RulerNiahTask.NEEDLE.formatted(key, number));
            assertThat(e.prompt().split("One of the special magic numbers for ", -1)).hasSize(4);
            int len = e.meta().path("context_length").asInt();
            assertThat(tok.encode(e.prompt(), true, false).length).isBetween(len - 8, len + 8);
            assertThat(e.scorer().apply(" " + number + ".").get("score")).isEqualTo(1.0);
            assertThat(e.scorer().apply(" " + number.substring(1) + ".").get("score")).isEqualTo(0.0);
        }
        Example top = ex.stream().filter(e -> e.id().startsWith("len=300,depth=0,")).findFirst().orElseThrow();
        String asked = RulerNiahTask.NEEDLE.formatted(top.meta().path("needle_key").asText(), top.meta().path("number").asText());
        assertThat(top.prompt()).startsWith(RulerNiahTask.PREAMBLE + "\n" + asked);
        Example bottom = ex.stream().filter(e -> e.id().startsWith("len=300,depth=100,")).findFirst().orElseThrow();
        String askedB = RulerNiahTask.NEEDLE.formatted(bottom.meta().path("needle_key").asText(), bottom.meta().path("number").asText());
        assertThat(bottom.prompt()).contains(askedB + "\nWhat is");
        // the same seed gives the same prompts; another seed other keys and numbers
        assertThat(RulerNiahTask.examples(tok, HAY, List.of(300), List.of(50.0), 1, 1, 7, 16, 2048).getFirst().prompt())
                .isEqualTo(RulerNiahTask.examples(tok, HAY, List.of(300), List.of(50.0), 1, 1, 7, 16, 2048).getFirst().prompt())
                .isNotEqualTo(RulerNiahTask.examples(tok, HAY, List.of(300), List.of(50.0), 1, 1, 8, 16, 2048).getFirst().prompt());
    }

    @Test
    void numbersAreHeldOutFromTraining() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 1000; i++) {
            String n = RulerNiahTask.number(r);
            assertThat(Integer.parseInt(n)).isBetween(1_000_000, 9_999_999);
            assertThat(n.chars().map(c -> c - '0').sum() % 10).isEqualTo(3);
        }
    }

    @Test
    void badGridsAreClearErrors() {
        Tokenizer tok = tokenizer();
        assertThatThrownBy(() -> RulerNiahTask.examples(tok, HAY, List.of(40), List.of(50.0), 1, 1, 0, 16, 2048))
                .isInstanceOf(Think4jException.class).hasMessageContaining("too short");
        assertThatThrownBy(() -> RulerNiahTask.examples(tok, HAY, List.of(300), List.of(50.0), 0, 1, 0, 16, 2048))
                .isInstanceOf(Think4jException.class).hasMessageContaining("--needles");
        assertThatThrownBy(() -> RulerNiahTask.examples(tok, HAY, List.of(2040), List.of(50.0), 1, 1, 0, 16, 2048))
                .isInstanceOf(Think4jException.class).hasMessageContaining("exceeds the model context");
    }
}
