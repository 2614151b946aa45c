package dev.think4j.server;

import dev.think4j.generate.SamplerConfig;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Capacity under a fixed KV budget: submits the same greedy requests to a fresh scheduler per KV
 * spec and reports how many sequences ran at once and the aggregate decode throughput. No HTTP, so
 * the figures are the scheduler's own.
 */
public final class CapacityBench {
    /** One spec's outcome. */
    public record Result(String spec, int sequences, int peakActive, long generatedTokens, double seconds) {
        public double tokensPerSecond() {
            return generatedTokens / seconds;
        }
    }

    private CapacityBench() {
    }

    public static Result run(Model model, Tokenizer tokenizer, long kvBudget, String kvSpec, int[] prompt, int maxTokens,
                             int sequences, int maxBatch) throws InterruptedException {
        String spec = KvSpec.parse(kvSpec).spec();
        Metrics metrics = new Metrics(kvBudget);
        int ctx = Math.max(model.config().contextLength(), prompt.length + maxTokens);
        try (Scheduler scheduler = new Scheduler(model, tokenizer, kvBudget, maxBatch, sequences, ctx, 0, metrics)) {
            long t0 = System.nanoTime();
            List<SequenceHandle> handles = new ArrayList<>();
            for (int i = 0; i < sequences; i++) {
                // Distinct seeds would not matter for greedy decoding; distinct prompts keep runs honest.
                int[] ids = Arrays.copyOf(prompt, prompt.length);
                ids[ids.length - 1] = prompt[(i % (prompt.length - 1)) + 1];
                handles.add(scheduler.submit(new GenerationRequest(ids, maxTokens, SamplerConfig.greedy(), List.of(),
                        new int[0], spec)));
            }
            long tokens = 0;
            for (SequenceHandle h : handles) {
                while (true) {
                    SequenceHandle.Event e = h.next(60_000);
                    if (e == null || e instanceof SequenceHandle.Failed) {
                        throw new IllegalStateException("bench sequence did not complete: " + e);
                    }
                    if (e instanceof SequenceHandle.Finished f) {
                        tokens += f.completionTokens();
                        break;
                    }
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Result(spec, sequences, metrics.peakActiveSequences(), tokens, seconds);
        }
    }

    /** A prompt of about {@code tokens} ids from repeated text (the content does not matter for capacity). */
    public static int[] prompt(Tokenizer tokenizer, int tokens) {
        StringBuilder sb = new StringBuilder();
        int[] ids;
        do {
            sb.append("Once upon a time there was a little girl named Lily. She loved to play in the park with her dog. ");
            ids = tokenizer.encode(sb.toString(), true, false);
        } while (ids.length < tokens);
        return Arrays.copyOf(ids, tokens);
    }
}
