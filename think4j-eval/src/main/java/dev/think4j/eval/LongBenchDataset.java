package dev.think4j.eval;

import dev.think4j.Think4jException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * LongBench v1 English datasets: the official prompt template ({context} and {input} placeholders),
 * answer budget in tokens and metric. Few-shot datasets keep only the first line of the answer, as
 * the official evaluation does.
 */
public record LongBenchDataset(String name, String template, int maxNewTokens, Metric metric, boolean firstLineOnly) {

    public enum Metric { QA_F1, ROUGE_L, CLASSIFICATION, RETRIEVAL, COUNT, CODE_SIM }

    private static final String HOP = "Answer the question based on the given passages. Only give me the answer and do not output any other words.\n\n"
            + "The following are given passages.\n{context}\n\nAnswer the question based on the given passages. Only give me the answer and do not "
            + "output any other words.\n\nQuestion: {input}\nAnswer:";
    private static final String QASPER_RULE = "as concisely as you can, using a single phrase or sentence if possible. If the question cannot be "
            + "answered based on the information in the article, write \"unanswerable\". If the question is a yes/no question, answer \"yes\", "
            + "\"no\", or \"unanswerable\". Do not provide any explanation.";

    private static final Map<String, LongBenchDataset> ALL = new TreeMap<>();

    private static void add(String name, String template, int max, Metric metric, boolean firstLine) {
        ALL.put(name, new LongBenchDataset(name, template, max, metric, firstLine));
    }

    static {
        add("narrativeqa", "You are given a story, which can be either a novel or a movie script, and a question. Answer the question asconcisely as "
                + "you can, using a single phrase if possible. Do not provide any explanation.\n\nStory: {context}\n\nNow, answer the question based on "
                + "the story asconcisely as you can, using a single phrase if possible. Do not provide any explanation.\n\nQuestion: {input}\n\nAnswer:",
                128, Metric.QA_F1, false);
        add("qasper", "You are given a scientific article and a question. Answer the question " + QASPER_RULE + "\n\nArticle: {context}\n\n "
                + "Answer the question based on the above article " + QASPER_RULE + "\n\nQuestion: {input}\n\nAnswer:", 128, Metric.QA_F1, false);
        add("multifieldqa_en", "Read the following text and answer briefly.\n\n{context}\n\nNow, answer the following question based on the above "
                + "text, only give me the answer and do not output any other words.\n\nQuestion: {input}\nAnswer:", 64, Metric.QA_F1, false);
        add("hotpotqa", HOP, 32, Metric.QA_F1, false);
        add("2wikimqa", HOP, 32, Metric.QA_F1, false);
        add("musique", HOP, 32, Metric.QA_F1, false);
        add("gov_report", "You are given a report by a government agency. Write a one-page summary of the report.\n\nReport:\n{context}\n\n"
                + "Now, write a one-page summary of the report.\n\nSummary:", 512, Metric.ROUGE_L, false);
        add("qmsum", "You are given a meeting transcript and a query containing a question or instruction. Answer the query in one or more "
                + "sentences.\n\nTranscript:\n{context}\n\nNow, answer the query based on the above meeting transcript in one or more sentences.\n\n"
                + "Query: {input}\nAnswer:", 512, Metric.ROUGE_L, false);
        add("multi_news", "You are given several news passages. Write a one-page summary of all news. \n\nNews:\n{context}\n\nNow, write a one-page "
                + "summary of all the news.\n\nSummary:", 512, Metric.ROUGE_L, false);
        add("trec", "Please determine the type of the question below. Here are some examples of questions.\n\n{context}\n{input}", 64,
                Metric.CLASSIFICATION, true);
        add("triviaqa", "Answer the question based on the given passage. Only give me the answer and do not output any other words. The following "
                + "are some examples.\n\n{context}\n\n{input}", 32, Metric.QA_F1, true);
        add("samsum", "Summarize the dialogue into a few short sentences. The following are some examples.\n\n{context}\n\n{input}", 128,
                Metric.ROUGE_L, true);
        add("passage_count", "There are some paragraphs below sourced from Wikipedia. Some of them may be duplicates. Please carefully read these "
                + "paragraphs and determine how many unique paragraphs there are after removing duplicates. In other words, how many non-repeating "
                + "paragraphs are there in total?\n\n{context}\n\nPlease enter the final count of unique paragraphs after removing duplicates. The "
                + "output format should only contain the number, such as 1, 2, 3, and so on.\n\nThe final answer is: ", 32, Metric.COUNT, false);
        add("passage_retrieval_en", "Here are 30 paragraphs from Wikipedia, along with an abstract. Please determine which paragraph the abstract "
                + "is from.\n\n{context}\n\nThe following is an abstract.\n\n{input}\n\nPlease enter the number of the paragraph that the abstract is "
                + "from. The answer format must be like \"Paragraph 1\", \"Paragraph 2\", etc.\n\nThe answer is: ", 32, Metric.RETRIEVAL, false);
        add("lcc", "Please complete the code given below. \n{context}Now, write the next line of code:\n", 64, Metric.CODE_SIM, false);
        add("repobench-p", "Please complete the code given below. \n{context}{input}Now, write the next line of code:\n", 64, Metric.CODE_SIM, false);
    }

    public static LongBenchDataset of(String name) {
        LongBenchDataset d = ALL.get(name.toLowerCase(Locale.ROOT).replaceFirst("_e$", ""));
        if (d == null) {
            throw new Think4jException("unknown LongBench dataset '" + name + "' (known: " + String.join(", ", ALL.keySet()) + ")");
        }
        return d;
    }

    public static List<String> names() {
        return List.copyOf(ALL.keySet());
    }

    /** Fills the template; literal braces in the data are left alone because placeholders are replaced, not formatted. */
    public String prompt(String context, String input) {
        return template.replace("{input}", input).replace("{context}", context);
    }

    /** Best score over the reference answers, after the dataset's answer post-processing. */
    public double score(String prediction, List<String> answers, List<String> allClasses) {
        String p = firstLineOnly ? firstLine(prediction) : prediction;
        double best = 0;
        for (String a : answers) {
            double s = switch (metric) {
                case QA_F1 -> Metrics.qaF1(p, a);
                case ROUGE_L -> Metrics.rougeL(p, a);
                case CLASSIFICATION -> Metrics.classification(p, a, allClasses);
                case RETRIEVAL -> Metrics.retrieval(p, a);
                case COUNT -> Metrics.count(p, a);
                case CODE_SIM -> Metrics.codeSimilarity(p, a);
            };
            best = Math.max(best, s);
        }
        return best;
    }

    static String firstLine(String s) {
        String t = s.replaceFirst("^\n+", "");
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
