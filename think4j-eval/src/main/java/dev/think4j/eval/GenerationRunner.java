package dev.think4j.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.generate.GenerationResult;
import dev.think4j.generate.SamplerConfig;
import dev.think4j.generate.Session;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Runs every (cache setting, example) pair greedily, skipping pairs already in the result log, and
 * appends one scored line per pair as soon as it finishes.
 */
public final class GenerationRunner {
    private final Model model;
    private final Tokenizer tokenizer;
    private final int chunk;
    private final int contextLength;

    public GenerationRunner(Model model, Tokenizer tokenizer, int chunk, int contextLength) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.chunk = chunk;
        this.contextLength = contextLength;
    }

    public static String key(KvPolicy policy, Example e) {
        return policy.spec() + "|" + e.id();
    }

    /** Prompt ids, middle-truncated so the prompt plus the answer budget fit the context. */
    public int[] promptIds(Example e) {
        int budget = contextLength - e.maxNewTokens();
        if (budget < 2) {
            throw new Think4jException("example " + e.id() + ": " + e.maxNewTokens() + " new tokens leave no room for a prompt in a context of "
                    + contextLength + " tokens");
        }
        return MiddleTruncation.truncate(tokenizer.encode(e.prompt(), true, false), budget);
    }

    /** @param progress receives the number of pairs done (finished earlier or now) */
    public void run(List<KvPolicy> policies, List<Example> examples, String task, ResultLog log, IntConsumer progress) {
        int done = 0;
        for (KvPolicy policy : policies) {
            for (Example e : examples) {
                String key = key(policy, e);
                if (!log.isDone(key)) {
                    log.append(key, runOne(policy, e, task));
                }
                done++;
                if (progress != null) {
                    progress.accept(done);
                }
            }
        }
    }

    ObjectNode runOne(KvPolicy policy, Example e, String task) {
        int full = tokenizer.encode(e.prompt(), true, false).length;
        int[] ids = promptIds(e);
        GenerationResult g;
        try (Session s = new Session(model, tokenizer, policy, contextLength, chunk)) {
            g = s.generate(ids, e.maxNewTokens(), SamplerConfig.greedy(), e.stop(), null, null);
        }
        String prediction = g.text();
        ObjectNode n = Jsonl.MAPPER.createObjectNode();
        n.put("task", task);
        n.put("id", e.id());
        n.put("kv_spec", policy.spec());
        n.setAll(e.meta());
        n.put("prompt_tokens", ids.length);
        n.put("truncated", ids.length < full);
        n.put("prediction", prediction);
        ObjectNode scores = n.putObject("scores");
        for (Map.Entry<String, Double> m : e.scorer().apply(prediction).entrySet()) {
            scores.put(m.getKey(), m.getValue());
        }
        n.put("kv_bytes", g.kvBytes());
        n.put("kv_bytes_uncompressed", g.kvBytesUncompressed());
        return n;
    }
}
