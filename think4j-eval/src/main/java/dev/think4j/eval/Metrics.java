package dev.think4j.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scoring functions of the benchmarks, each following its benchmark's published definition so that
 * numbers are comparable with reported results. All return a score in [0, 1].
 */
public final class Metrics {
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b");
    private static final Pattern NUMBER = Pattern.compile("\\d+");
    private static final Pattern PARAGRAPH = Pattern.compile("Paragraph (\\d+)");

    private Metrics() {
    }

    /** SQuAD-style answer normalization: lower case, no punctuation, no articles, single spaces. */
    public static String normalizeAnswer(String s) {
        String lower = s.toLowerCase(Locale.ROOT);
        StringBuilder sb = new StringBuilder(lower.length());
        for (int i = 0; i < lower.length(); i++) {
            char c = lower.charAt(i);
            // string.punctuation of ASCII: dropped without inserting a space, as the reference does
            if (!(c < 128 && isAsciiPunctuation(c))) {
                sb.append(c);
            }
        }
        String noArticles = ARTICLES.matcher(sb).replaceAll(" ");
        return String.join(" ", splitWhitespace(noArticles));
    }

    private static boolean isAsciiPunctuation(char c) {
        return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    }

    static List<String> splitWhitespace(String s) {
        List<String> out = new ArrayList<>();
        for (String t : s.strip().split("\\s+")) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /** Token-level F1 of the normalized prediction against the normalized ground truth (LongBench qa_f1). */
    public static double qaF1(String prediction, String groundTruth) {
        return tokenF1(splitWhitespace(normalizeAnswer(prediction)), splitWhitespace(normalizeAnswer(groundTruth)));
    }

    /** F1 of the multiset overlap of two token lists; 0 when either is empty. */
    static double tokenF1(List<String> pred, List<String> truth) {
        Map<String, Integer> counts = new HashMap<>();
        for (String t : truth) {
            counts.merge(t, 1, Integer::sum);
        }
        int common = 0;
        for (String t : pred) {
            Integer c = counts.get(t);
            if (c != null && c > 0) {
                common++;
                counts.put(t, c - 1);
            }
        }
        if (common == 0) {
            return 0;
        }
        double p = (double) common / pred.size();
        double r = (double) common / truth.size();
        return 2 * p * r / (p + r);
    }

    /** Lower-cased alphanumeric word tokens (ROUGE's tokenization, without stemming). */
    public static List<String> rougeTokens(String s) {
        List<String> out = new ArrayList<>();
        for (String t : s.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /** ROUGE-L F1: longest common subsequence of word tokens, harmonic mean of its precision and recall. */
    public static double rougeL(String prediction, String reference) {
        List<String> p = rougeTokens(prediction);
        List<String> r = rougeTokens(reference);
        if (p.isEmpty() || r.isEmpty()) {
            return 0;
        }
        int lcs = lcs(p, r);
        if (lcs == 0) {
            return 0;
        }
        double prec = (double) lcs / p.size();
        double rec = (double) lcs / r.size();
        return 2 * prec * rec / (prec + rec);
    }

    static <T> int lcs(List<T> a, List<T> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = a.get(i - 1).equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }

    /**
     * Character edit similarity as LongBench's code_sim (fuzzy ratio): 2 * matches / (|a| + |b|), where
     * matches is the longest common subsequence, i.e. one minus the normalized insert/delete distance.
     */
    public static double editSimilarity(String a, String b) {
        if (a.isEmpty() && b.isEmpty()) {
            return 1;
        }
        List<Character> x = a.chars().mapToObj(c -> (char) c).toList();
        List<Character> y = b.chars().mapToObj(c -> (char) c).toList();
        return 2.0 * lcs(x, y) / (a.length() + b.length());
    }

    /** LongBench code_sim: the first generated line that is code (not a comment or fence) against the answer. */
    public static double codeSimilarity(String prediction, String groundTruth) {
        String line = "";
        for (String l : prediction.strip().split("\n", -1)) {
            if (!l.contains("`") && !l.contains("#") && !l.contains("//")) {
                line = l;
                break;
            }
        }
        return editSimilarity(line, groundTruth);
    }

    /**
     * LongBench classification: classes named in the prediction, ignoring those that are only
     * substrings of the true class; credit 1/(number named) if the true class is among them.
     */
    public static double classification(String prediction, String groundTruth, List<String> allClasses) {
        List<String> named = new ArrayList<>();
        for (String c : allClasses) {
            if (prediction.contains(c)) {
                named.add(c);
            }
        }
        named.removeIf(c -> groundTruth.contains(c) && !c.equals(groundTruth));
        return named.contains(groundTruth) ? 1.0 / named.size() : 0;
    }

    /** LongBench passage_count: share of the numbers in the prediction equal to the true count. */
    public static double count(String prediction, String groundTruth) {
        return shareEqual(prediction, groundTruth.strip());
    }

    /** LongBench passage_retrieval: share of the numbers in the prediction equal to the true paragraph number. */
    public static double retrieval(String prediction, String groundTruth) {
        Matcher m = PARAGRAPH.matcher(groundTruth);
        if (!m.find()) {
            return 0;
        }
        return shareEqual(prediction, m.group(1));
    }

    private static double shareEqual(String prediction, String target) {
        Matcher m = NUMBER.matcher(prediction);
        int all = 0;
        int right = 0;
        while (m.find()) {
            all++;
            if (m.group().equals(target)) {
                right++;
            }
        }
        return all == 0 ? 0 : (double) right / all;
    }

    /** RULER string_match_all: fraction of the expected outputs found in the prediction, case-insensitive. */
    public static double rulerStringMatchAll(String prediction, List<String> expected) {
        if (expected.isEmpty()) {
            return 0;
        }
        String p = prediction.toLowerCase(Locale.ROOT);
        int hit = 0;
        for (String e : expected) {
            if (p.contains(e.toLowerCase(Locale.ROOT))) {
                hit++;
            }
        }
        return (double) hit / expected.size();
    }

    /** RULER string_match_part (QA tasks): 1 if any expected output is found, case-insensitive. */
    public static double rulerStringMatchPart(String prediction, List<String> expected) {
        String p = prediction.toLowerCase(Locale.ROOT);
        for (String e : expected) {
            if (p.contains(e.toLowerCase(Locale.ROOT))) {
                return 1;
            }
        }
        return 0;
    }

    /** Fraction of key words (already normalized) present among the answer's normalized words. */
    public static double keywordRecall(String answer, List<String> keywords) {
        if (keywords.isEmpty()) {
            return 0;
        }
        List<String> words = splitWhitespace(normalizeAnswer(answer));
        int hit = 0;
        for (String k : keywords) {
            if (words.contains(k)) {
                hit++;
            }
        }
        return (double) hit / keywords.size();
    }
}
