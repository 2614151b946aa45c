package dev.think4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void normalizationDropsCasePunctuationAndArticles() {
        assertThat(Metrics.normalizeAnswer("The  Cat, sat on a mat!")).isEqualTo("cat sat on mat");
        assertThat(Metrics.normalizeAnswer("Theater an-other")).isEqualTo("theater another");
    }

    @Test
    void qaF1CountsNormalizedTokenOverlap() {
        // pred {cat, sat, on, mat}, truth {cat, on, mat}: P = 3/4, R = 1, F1 = 6/7
        assertThat(Metrics.qaF1("The cat sat on the mat.", "a cat on a mat")).isCloseTo(6.0 / 7, within(1e-12));
        assertThat(Metrics.qaF1("dog", "cat")).isZero();
        // repeated tokens only match as often as the truth has them: P = 1/3, R = 1
        assertThat(Metrics.qaF1("paris paris paris", "Paris")).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void rougeLUsesLongestCommonSubsequence() {
        // LCS "the cat on the mat" = 5 of 6 tokens each side
        assertThat(Metrics.rougeL("the cat sat on the mat", "The cat is on the mat.")).isCloseTo(5.0 / 6, within(1e-12));
        // LCS "a c" = 2: P = 2/3, R = 2/2, F = 0.8
        assertThat(Metrics.rougeL("a b c", "a c")).isCloseTo(0.8, within(1e-12));
        assertThat(Metrics.rougeL("", "a")).isZero();
    }

    @Test
    void editSimilarityIsTheFuzzyRatio() {
        // kitten/sitting share "ittn": 2 * 4 / 13
        assertThat(Metrics.editSimilarity("kitten", "sitting")).isCloseTo(8.0 / 13, within(1e-12));
        assertThat(Metrics.editSimilarity("abc", "abc")).isEqualTo(1.0);
        assertThat(Metrics.codeSimilarity("# comment\nx = 1\ny = 2", "x = 1")).isEqualTo(1.0);
        assertThat(Metrics.codeSimilarity("```python\nreturn a", "return b")).isCloseTo(2.0 * 7 / 16, within(1e-12));
    }

    @Test
    void classificationCountAndRetrieval() {
        List<String> classes = List.of("Description", "Entity", "Location", "Loc");
        assertThat(Metrics.classification("Location", "Location", classes)).isEqualTo(1.0); // "Loc" is a substring of the truth: ignored
        assertThat(Metrics.classification("Entity or Location", "Location", classes)).isEqualTo(0.5);
        assertThat(Metrics.classification("Entity", "Location", classes)).isZero();
        assertThat(Metrics.count("There are 5 paragraphs, or 6", "5")).isEqualTo(0.5);
        assertThat(Metrics.count("none", "5")).isZero();
        assertThat(Metrics.retrieval("Paragraph 3", "Paragraph 3")).isEqualTo(1.0);
        assertThat(Metrics.retrieval("Paragraph 3 or Paragraph 14", "Paragraph 3")).isEqualTo(0.5);
    }

    @Test
    void rulerStringMatchIsCaseInsensitiveShareOfOutputs() {
        assertThat(Metrics.rulerStringMatchAll("The numbers are 123 and 456.", List.of("123", "456", "789"))).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(Metrics.rulerStringMatchAll("UUID ABC-def", List.of("abc-DEF"))).isEqualTo(1.0);
        assertThat(Metrics.rulerStringMatchPart("only 789", List.of("123", "789"))).isEqualTo(1.0);
    }

    @Test
    void niahScoreIsShareOfNeedleKeyWords() {
        Needle n = Needle.of(Needle.STANDARD, Needle.STANDARD_QUESTION, List.of());
        assertThat(n.keywords()).containsExactly("eat", "sandwich", "sit", "dolores", "park", "sunny", "day");
        assertThat(n.score("Eat a sandwich in Dolores Park.").get("score")).isCloseTo(4.0 / 7, within(1e-12));
        assertThat(n.score(Needle.STANDARD).get("score")).isEqualTo(1.0);
        assertThat(n.score(Needle.STANDARD).get("rouge_l")).isEqualTo(1.0);
        assertThat(n.score("I do not know").get("score")).isZero();
        assertThat(Needle.of("x", "y", List.of("Dolores")).keywords()).containsExactly("dolores");
    }

    @Test
    void recallScoresTheFactValueAsAWord() {
        RecallTask.Fact f = new RecallTask.Fact("Lily", "favorite color was", "red");
        assertThat(RecallTask.score(f, " red.").get("accuracy")).isEqualTo(1.0);
        assertThat(RecallTask.score(f, " bored").get("accuracy")).isZero();
        assertThat(RecallTask.fact(7)).isEqualTo(RecallTask.fact(7));
    }
}
