package dev.think4j.server;

import dev.think4j.generate.SamplerConfig;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Aggregate throughput against the number of concurrent requests, through the real scheduler (no
 * HTTP), the way llama.cpp's llama-batched-bench measures it: B requests of P prompt tokens and G
 * generated tokens each arrive at once, and S = B * (P + G) / wall time. The scheduler interleaves
 * their prefills with decode steps as it does when serving, so the prefill and decode rates it
 * reports are its own forward timings, and the latencies are what a client would see.
 */
public final class BatchBench {
    /**
     * One batch size's outcome. Rates in tokens/s; latencies in milliseconds as p50, p90, p99.
     *
     * @param decodeFullBatch decode tokens/s over the steps that ran all {@code batch} sequences at once; null when
     *                        they never all decoded together (the first finished before the last prompt was in)
     */
    public record Row(int batch, int promptTokens, int genTokens, long tokens, double seconds, double aggregate,
                      double prefill, Double decode, Double decodeFullBatch, Double[] ttftMs, Double[] itlMs) {
    }

    private BatchBench() {
    }

    /**
     * Runs {@code batch} requests at once on a fresh scheduler; every request generates exactly
     * {@code gen} tokens (end-of-generation masked) from its own deterministic random prompt.
     */
    public static Row run(Model model, Tokenizer tokenizer, String kvSpec, int prompt, int gen, int batch, int prefillChunk,
                          long seed) throws InterruptedException {
        String spec = KvSpec.parse(kvSpec).spec();
        int ctx = Math.max(model.config().contextLength(), prompt + gen + 1);
        long dense = model.kvShape().denseBytesPerToken();
        long budget = (long) batch * (prompt + gen + 1) * dense * 2;
        Metrics metrics = new Metrics(budget);
        try (Scheduler scheduler = new Scheduler(model, tokenizer, budget, batch, batch, ctx, 0, prefillChunk, metrics)) {
            scheduler.ignoreEos(true);
            SplittableRandom random = new SplittableRandom(seed);
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                requests.add(new GenerationRequest(randomPrompt(tokenizer, model.config().vocabSize(), prompt, random), gen,
                        SamplerConfig.greedy(), List.of(), new int[0], spec));
            }
            long t0 = System.nanoTime();
            List<SequenceHandle> handles = new ArrayList<>();
            for (GenerationRequest r : requests) {
                handles.add(scheduler.submit(r));
            }
            long tokens = 0;
            for (SequenceHandle h : handles) {
                while (true) {
                    SequenceHandle.Event e = h.next(600_000);
                    if (e == null || e instanceof SequenceHandle.Failed) {
                        throw new IllegalStateException("bench request did not complete: " + e);
                    }
                    if (e instanceof SequenceHandle.Finished f) {
                        tokens += f.promptTokens() + f.completionTokens();
                        break;
                    }
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long generated = metrics.generatedTokens();
            double full = metrics.decodeSeconds(batch);
            return new Row(batch, prompt, gen, tokens, seconds, tokens / seconds,
                    metrics.prefillTokens() / metrics.prefillSeconds(),
                    // each request's last token is sampled, never fed; -n 1 runs no decode step at all
                    metrics.decodeSeconds() > 0 ? Double.valueOf((generated - batch) / metrics.decodeSeconds()) : null,
                    full > 0 ? Double.valueOf(batch * metrics.decodeSteps(batch) / full) : null,
                    millis(metrics.timeToFirstToken()), millis(metrics.interTokenLatency()));
        }
    }

    /** Ids drawn from the vocabulary (end-of-generation ids excluded), starting with BOS when the model has one. */
    static int[] randomPrompt(Tokenizer tokenizer, int vocab, int n, SplittableRandom random) {
        int[] bos = tokenizer.encode("", true, false);
        int[] ids = new int[n];
        int i = 0;
        if (bos.length > 0 && n > 0) {
            ids[i++] = bos[0];
        }
        while (i < n) {
            int id = random.nextInt(vocab);
            if (!tokenizer.isEndOfGeneration(id)) {
                ids[i++] = id;
            }
        }
        return ids;
    }

    /** Seconds to milliseconds; null for NaN (no value: e.g. no second token with -n 1). */
    private static Double[] millis(double[] seconds) {
        return Arrays.stream(seconds).mapToObj(s -> Double.isNaN(s) ? null : s * 1000).toArray(Double[]::new);
    }

    public static String markdown(List<Row> rows, String model, String kv) {
        StringBuilder sb = new StringBuilder();
        sb.append("model ").append(model).append(", --kv ").append(kv).append('\n');
        sb.append("| B | PP | TG | tokens | T s | S t/s | vs B=1 | prefill t/s | decode t/s | decode t/s at B | TTFT p50/p90/p99 ms | ITL p50/p90/p99 ms |\n");
        sb.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        Double single = null;
        for (Row r : rows) {
            if (r.batch() == 1) {
                single = r.aggregate();
            }
        }
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %d | %d | %d | %d | %.2f | %.1f | %s | %.1f | %s | %s | %s | %s |%n",
                    r.batch(), r.promptTokens(), r.genTokens(), r.tokens(), r.seconds(), r.aggregate(),
                    single == null ? "" : String.format(Locale.ROOT, "%.2fx", r.aggregate() / single),
                    r.prefill(), rate(r.decode()), rate(r.decodeFullBatch()),
                    triple(r.ttftMs()), triple(r.itlMs())));
        }
        return sb.toString();
    }

    private static String rate(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String triple(Double[] v) {
        if (v[0] == null) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.0f / %.0f / %.0f", v[0], v[1], v[2]);
    }
}
