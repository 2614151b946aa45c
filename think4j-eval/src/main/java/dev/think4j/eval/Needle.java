package dev.think4j.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A needle fact, the question asking for it and its key words. The original test asks a judge model
 * whether the answer states the needle; without one, the score is the share of the needle's key words
 * (content words not already in the question) that the answer contains.
 */
public record Needle(String sentence, String question, List<String> keywords) {
    public static final String STANDARD = "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.";
    public static final String STANDARD_QUESTION = "What is the best thing to do in San Francisco?";

    private static final Set<String> STOP = Set.of("a", "an", "the", "is", "are", "was", "were", "be", "to", "of", "in", "on",
            "at", "and", "or", "for", "with", "by", "it", "its", "that", "this", "do", "does", "did", "what", "which", "who",
            "whom", "whose", "how", "when", "where", "why", "as", "from", "his", "her", "their", "has", "have", "had");

    public static Needle of(String sentence, String question, List<String> keywords) {
        return new Needle(sentence, question, keywords == null || keywords.isEmpty() ? keywordsOf(sentence, question) : keywords.stream()
                .map(Metrics::normalizeAnswer).toList());
    }

    /** Normalized content words of the needle that the question does not already give away. */
    public static List<String> keywordsOf(String sentence, String question) {
        List<String> q = Metrics.splitWhitespace(Metrics.normalizeAnswer(question));
        List<String> out = new ArrayList<>();
        for (String w : Metrics.splitWhitespace(Metrics.normalizeAnswer(sentence))) {
            if (!STOP.contains(w) && !q.contains(w) && !out.contains(w)) {
                out.add(w);
            }
        }
        if (out.isEmpty()) {
            out.addAll(Metrics.splitWhitespace(Metrics.normalizeAnswer(sentence)));
        }
        return out;
    }

    /** key-word recall (the headline NIAH score) and ROUGE-L F1 against the needle. */
    public java.util.Map<String, Double> score(String answer) {
        java.util.Map<String, Double> m = new java.util.LinkedHashMap<>();
        m.put("score", Metrics.keywordRecall(answer, keywords));
        m.put("rouge_l", Metrics.rougeL(answer, sentence));
        return m;
    }
}
