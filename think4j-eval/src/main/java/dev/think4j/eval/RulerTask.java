package dev.think4j.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** RULER examples: "input" is the complete prompt, "outputs" the strings the answer must contain. */
public final class RulerTask {
    private RulerTask() {
    }

    public static List<Example> examples(Path file, int maxExamples, int maxNew) {
        List<Example> out = new ArrayList<>();
        for (Jsonl.Line l : Jsonl.read(file, maxExamples)) {
            String input = l.text("input");
            List<String> expected = l.texts("outputs");
            String id = l.node().has("index") ? l.text("index") : String.valueOf(l.number());
            ObjectNode meta = Jsonl.MAPPER.createObjectNode();
            meta.put("line", l.number());
            meta.set("outputs", Jsonl.MAPPER.valueToTree(expected));
            if (l.node().has("length")) {
                meta.put("length", l.node().get("length").asInt());
            }
            out.add(new Example(id, input, maxNew, List.of(), meta, p -> score(p, expected)));
        }
        return out;
    }

    static Map<String, Double> score(String prediction, List<String> expected) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("string_match", Metrics.rulerStringMatchAll(prediction, expected));
        return m;
    }
}
