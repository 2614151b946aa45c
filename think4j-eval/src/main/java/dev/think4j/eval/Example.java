package dev.think4j.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One generation example of a task: a prompt, a generation budget, how to score the answer, and
 * descriptive fields (dataset, depth, ...) copied into its result line.
 *
 * @param stop   stop strings ending the answer early (may be empty)
 * @param scorer prediction -> named scores in [0, 1]
 */
public record Example(String id, String prompt, int maxNewTokens, List<String> stop, ObjectNode meta,
                      Function<String, Map<String, Double>> scorer) {
}
