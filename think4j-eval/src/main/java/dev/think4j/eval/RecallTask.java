package dev.think4j.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * In-domain retrieval for small story models: a sentence pairing a name with a fact ("Lily's
 * favorite color was red.") is hidden in TinyStories text, and the prompt ends by restating the
 * start of that sentence so a model that retrieves it only has to complete the fact.
 */
public final class RecallTask {
    private static final String[] NAMES = {"Lily", "Tom", "Sue", "Ben", "Mia", "Max", "Anna", "Sam", "Lucy", "Jack"};
    private static final String[][] FACTS = {
        {"favorite color was", "red", "blue", "green", "yellow", "pink"},
        {"dog was called", "Spot", "Buddy", "Rex", "Fluffy", "Lucky"},
        {"best friend was a", "frog", "bird", "cat", "bunny", "bear"},
        {"favorite toy was a", "ball", "kite", "doll", "truck", "drum"},
    };

    private RecallTask() {
    }

    /** A fact chosen deterministically from the example's seed. */
    public record Fact(String name, String relation, String value) {
        public String sentence() {
            return name + "'s " + relation + " " + value + ".";
        }

        public String cue() {
            return name + "'s " + relation;
        }
    }

    public static Fact fact(long seed) {
        Random r = new Random(seed);
        String name = NAMES[r.nextInt(NAMES.length)];
        String[] f = FACTS[r.nextInt(FACTS.length)];
        return new Fact(name, f[0], f[1 + r.nextInt(f.length - 1)]);
    }

    /** 1 when the answer contains the fact's value as a word, case-insensitive. */
    public static Map<String, Double> score(Fact f, String answer) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("accuracy", Metrics.splitWhitespace(Metrics.normalizeAnswer(answer)).contains(Metrics.normalizeAnswer(f.value())) ? 1.0 : 0.0);
        return m;
    }

    /**
     * {@code count} examples per depth; example i uses stories from index i on as filler (so examples
     * differ) and seed + i for its fact.
     */
    public static List<Example> examples(Tokenizer tok, List<String> stories, int contextTokens, List<Double> depthsPercent,
                                         int count, long seed, int maxNew) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Fact f = fact(seed + i);
            StringBuilder filler = new StringBuilder();
            for (int s = 0; s < stories.size(); s++) {
                filler.append(filler.isEmpty() ? "" : "\n").append(stories.get((i + s) % stories.size()));
                if (filler.length() > contextTokens * 8L) {
                    break;
                }
            }
            for (double d : depthsPercent) {
                String context = NeedlePlacer.place(tok, filler.toString(), contextTokens, f.sentence(), d / 100);
                ObjectNode meta = Jsonl.MAPPER.createObjectNode();
                meta.put("depth_percent", d);
                meta.put("context_tokens", contextTokens);
                meta.put("answer", f.value());
                out.add(new Example("ex=" + i + ",depth=" + NiahTask.fmt(d), context + "\n" + f.cue(), maxNew, List.of("\n"), meta,
                        a -> score(f, a)));
            }
        }
        return out;
    }
}
