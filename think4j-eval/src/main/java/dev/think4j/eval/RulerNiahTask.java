package dev.think4j.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Needle in a haystack in RULER's niah_single / niah_multikey wording: a 7-digit "special magic number"
 * per key word, the question asking for one key, answered when the completion contains its number.
 * Keys come from {@code ruler-keys.txt} and numbers have a digit sum of 3 mod 10; the training data of
 * models/tiny-retrieval.gguf (tools/train) excludes both, so that model is asked only unseen pairs.
 */
public final class RulerNiahTask {
    public static final String PREAMBLE = "Some special magic numbers are hidden within the following text. "
            + "Make sure to memorize it. I will quiz you about the numbers afterwards.";
    public static final String NEEDLE = "One of the special magic numbers for %s is: %s.";
    public static final String QUESTION = "What is the special magic number for %1$s mentioned in the provided text? "
            + "The special magic number for %1$s mentioned in the provided text is";

    private RulerNiahTask() {
    }

    public static List<String> keys() {
        try (InputStream in = RulerNiahTask.class.getResourceAsStream("ruler-keys.txt")) {
            if (in == null) {
                throw new IllegalStateException("resource ruler-keys.txt missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read ruler-keys.txt", e);
        }
    }

    /** A 7-digit number whose digit sum is 3 mod 10 (the class training never draws from). */
    static String number(SplittableRandom rng) {
        while (true) {
            int n = rng.nextInt(1_000_000, 10_000_000);
            int sum = 0;
            for (int m = n; m > 0; m /= 10) {
                sum += m % 10;
            }
            if (sum % 10 == 3) {
                return String.valueOf(n);
            }
        }
    }

    /**
     * {@code samples} examples per (length, depth), each with {@code needles} distinct keys: the asked
     * one at the cell's depth, the others at random depths. The cell's seed depends only on
     * (seed, length, depth, sample), so adding lengths or depths leaves the other cells unchanged.
     */
    public static List<Example> examples(Tokenizer tok, String haystack, List<Integer> lengths, List<Double> depthsPercent,
                                         int needles, int samples, long seed, int maxNew, int contextLength) {
        List<String> keys = keys();
        if (needles < 1 || needles > keys.size()) {
            throw new Think4jException("--needles must be in [1, " + keys.size() + "], got " + needles);
        }
        if (samples < 1) {
            throw new Think4jException("--samples must be >= 1, got " + samples);
        }
        List<Example> out = new ArrayList<>();
        for (int len : lengths) {
            if (len + maxNew > contextLength) {
                throw new Think4jException("grid length " + len + " plus " + maxNew + " answer tokens exceeds the model context of "
                        + contextLength + " tokens; drop it from --lengths or raise --ctx");
            }
            for (double d : depthsPercent) {
                if (!(d >= 0 && d <= 100)) {
                    throw new Think4jException("depth must be a percentage in [0, 100], got " + d);
                }
                for (int s = 0; s < samples; s++) {
                    SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + len * 7919L + Double.hashCode(d) * 31L + s);
                    List<String> chosen = new ArrayList<>();
                    while (chosen.size() < needles) {
                        String k = keys.get(rng.nextInt(keys.size()));
                        if (!chosen.contains(k)) {
                            chosen.add(k);
                        }
                    }
                    List<String> sentences = new ArrayList<>();
                    List<String> numbers = new ArrayList<>();
                    int overhead = tok.encode(PREAMBLE + "\n\n" + QUESTION.formatted(chosen.getFirst()), true, false).length;
                    for (String k : chosen) {
                        numbers.add(number(rng));
                        sentences.add(NEEDLE.formatted(k, numbers.getLast()));
                        overhead += tok.encode(sentences.getLast(), false, false).length;
                    }
                    int filler = len - overhead;
                    if (filler < 1) {
                        throw new Think4jException("grid length " + len + " is too short: preamble, needles and question alone take "
                                + overhead + " tokens");
                    }
                    String context = NeedlePlacer.cut(tok, haystack, filler);
                    for (int j = 1; j < needles; j++) {
                        context = NeedlePlacer.insert(context, sentences.get(j), rng.nextDouble());
                    }
                    context = NeedlePlacer.insert(context, sentences.getFirst(), d / 100);
                    String prompt = PREAMBLE + "\n" + context + "\n" + QUESTION.formatted(chosen.getFirst());
                    ObjectNode meta = Jsonl.MAPPER.createObjectNode();
                    meta.put("context_length", len);
                    meta.put("depth_percent", d);
                    meta.put("needle_key", chosen.getFirst());
                    meta.put("number", numbers.getFirst());
                    meta.put("needles", needles);
                    String expected = numbers.getFirst();
                    String id = "len=" + len + ",depth=" + NiahTask.fmt(d) + (samples > 1 ? ",sample=" + s : "");
                    out.add(new Example(id, prompt, maxNew, List.of(), meta, a -> score(a, expected)));
                }
            }
        }
        return out;
    }

    /** score: 1 when the answer contains the number (RULER's string match); rouge_l against it. */
    static Map<String, Double> score(String answer, String number) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("score", answer.contains(number) ? 1.0 : 0.0);
        m.put("rouge_l", Metrics.rougeL(answer, number));
        return m;
    }
}
