package dev.think4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** models/tiny-retrieval.gguf (trained by tools/train) answers a RULER needle question greedily. */
class TinyRetrievalModelTest {
    static final Path MODEL = Path.of("models", "tiny-retrieval.gguf").toAbsolutePath();

    @Test
    void retrievesAnUnseenNeedleFromTheMiddleOfAStory() throws Exception {
        assumeTrue(Files.exists(MODEL), "skipped: " + MODEL + " not present (train it with tools/train, see its README)");
        String haystack = Files.readString(Path.of("docs", "examples", "story.txt"));
        try (Model model = Model.load(MODEL)) {
            assertThat(model.config().headDim()).isEqualTo(64);
            assertThat(model.config().kvHeads()).isLessThan(model.config().heads());
            Tokenizer tok = Tokenizer.fromGguf(model.gguf());
            List<Example> ex = RulerNiahTask.examples(tok, haystack, List.of(900), List.of(40.0), 1, 1, 11, 12,
                    model.config().contextLength());
            ObjectNode r = new GenerationRunner(model, tok, 256, model.config().contextLength()).runOne(KvSpec.parse("full"),
                    ex.getFirst(), "niah");
            assertThat(r.path("prediction").asText()).as("answer to a needle of number %s", ex.getFirst().meta().path("number").asText())
                    .contains(ex.getFirst().meta().path("number").asText());
        }
    }
}
