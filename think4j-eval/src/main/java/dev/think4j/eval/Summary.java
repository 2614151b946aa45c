package dev.think4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Means of a score over result lines, grouped by a key derived from each line. */
public final class Summary {
    private Summary() {
    }

    public static Map<String, Double> mean(List<ObjectNode> results, Function<JsonNode, String> group, String score) {
        Map<String, double[]> acc = new LinkedHashMap<>();
        for (ObjectNode r : results) {
            JsonNode s = r.path("scores").get(score);
            if (s == null || !s.isNumber()) {
                continue;
            }
            double[] a = acc.computeIfAbsent(group.apply(r), k -> new double[2]);
            a[0] += s.asDouble();
            a[1]++;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        acc.forEach((k, a) -> out.put(k, a[0] / a[1]));
        return out;
    }

    /** Distinct values of a field, in first-seen order. */
    public static List<String> distinct(List<ObjectNode> results, String field) {
        List<String> out = new ArrayList<>();
        for (ObjectNode r : results) {
            String v = r.path(field).asText();
            if (!out.contains(v)) {
                out.add(v);
            }
        }
        return out;
    }

    public static double meanOf(List<ObjectNode> results, String field) {
        double sum = 0;
        int n = 0;
        for (ObjectNode r : results) {
            JsonNode v = r.get(field);
            if (v != null && v.isNumber()) {
                sum += v.asDouble();
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
