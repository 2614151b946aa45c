package dev.think4j.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** LongBench v1 examples from a jsonl file; the dataset comes from each line's "dataset" field or the file name. */
public final class LongBenchTask {
    private LongBenchTask() {
    }

    public static List<Example> examples(Path file, int maxExamples, Integer maxNewOverride) {
        String fromName = file.getFileName().toString().replaceFirst("\\.jsonl$", "");
        List<Example> out = new ArrayList<>();
        for (Jsonl.Line l : Jsonl.read(file, maxExamples)) {
            LongBenchDataset ds = LongBenchDataset.of(l.textOr("dataset", fromName));
            String context = l.text("context");
            String input = l.text("input");
            List<String> answers = l.texts("answers");
            List<String> classes = l.node().hasNonNull("all_classes") ? l.texts("all_classes") : List.of();
            String id = l.textOr("_id", ds.name() + "-" + l.number());
            ObjectNode meta = Jsonl.MAPPER.createObjectNode();
            meta.put("dataset", ds.name());
            meta.put("line", l.number());
            int maxNew = maxNewOverride != null ? maxNewOverride : ds.maxNewTokens();
            out.add(new Example(id, ds.prompt(context, input), maxNew, List.of(), meta,
                    p -> Map.of("score", ds.score(p, answers, classes))));
        }
        return out;
    }
}
