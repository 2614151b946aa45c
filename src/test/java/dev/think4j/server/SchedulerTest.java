package dev.think4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.think4j.generate.GenerationResult;
import dev.think4j.generate.SamplerConfig;
import dev.think4j.generate.Session;
import dev.think4j.generate.StopReason;
import dev.think4j.kv.KvPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class SchedulerTest {
    private static final int CTX = TestModel.MODEL.config().contextLength();

    private static Scheduler scheduler(long budget, int maxQueue, int prefixEntries, Metrics metrics) {
        return new Scheduler(TestModel.MODEL, TestModel.TOKENIZER, budget, 8, maxQueue, CTX, prefixEntries, metrics);
    }

    private static GenerationRequest greedy(String prompt, int maxTokens, String kv) {
        return new GenerationRequest(TestModel.TOKENIZER.encode(prompt, true, false), maxTokens, SamplerConfig.greedy(),
                List.of(), new int[0], kv);
    }

    /** Text and the terminal event of one sequence. */
    record Outcome(String text, SequenceHandle.Event end) {
        SequenceHandle.Finished finished() {
            assertThat(end).isInstanceOf(SequenceHandle.Finished.class);
            return (SequenceHandle.Finished) end;
        }
    }

    static Outcome drain(SequenceHandle h) throws InterruptedException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            SequenceHandle.Event e = h.next(20_000);
            assertThat(e).as("scheduler event within 20 s").isNotNull();
            if (e instanceof SequenceHandle.Text t) {
                sb.append(t.text());
            } else {
                return new Outcome(sb.toString(), e);
            }
        }
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 10 s").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void batchedGreedyOutputsEqualTheSingleSequenceSession() throws Exception {
        String[] prompts = {"Once upon a time", "Lily and Ben", "The cat sat", "One day, a big dog", "Tom had a red ball",
            "The sun was"};
        Metrics metrics = new Metrics(1L << 26);
        try (Scheduler s = scheduler(1L << 26, 64, 0, metrics)) {
            List<SequenceHandle> handles = new ArrayList<>();
            for (String p : prompts) {
                handles.add(s.submit(greedy(p, 24, "full")));
            }
            for (int i = 0; i < prompts.length; i++) {
                Outcome o = drain(handles.get(i));
                Session session = new Session(TestModel.MODEL, TestModel.TOKENIZER, KvPolicy.none(), CTX, 64);
                GenerationResult ref = session.generate(TestModel.TOKENIZER.encode(prompts[i], true, false), 24,
                        SamplerConfig.greedy(), List.of(), null, null);
                assertThat(o.text()).as(prompts[i]).isEqualTo(ref.text());
                assertThat(o.finished().completionTokens()).isEqualTo(ref.outputIds().length);
            }
            assertThat(metrics.peakActiveSequences()).isGreaterThan(1);
            await(() -> metrics.activeSequences() == 0 && metrics.kvReservedBytes() == 0);
        }
    }

    @Test
    void compressedSpecAdmitsMoreSequencesUnderTheSameBudget() throws Exception {
        int[] prompt = CapacityBench.prompt(TestModel.TOKENIZER, 160);
        int maxTokens = 8;
        // Room for exactly eight dense sequences.
        long budget = 8 * (prompt.length + maxTokens) * TestModel.DENSE_PER_TOKEN + 1000;
        CapacityBench.Result full = CapacityBench.run(TestModel.MODEL, TestModel.TOKENIZER, budget, "full", prompt, maxTokens, 16, 8);
        CapacityBench.Result think = CapacityBench.run(TestModel.MODEL, TestModel.TOKENIZER, budget, "think:0.5", prompt, maxTokens,
                16, 8);
        assertThat(full.peakActive()).isEqualTo(8);
        assertThat(think.peakActive()).isGreaterThan(full.peakActive());
        assertThat(full.generatedTokens()).isEqualTo(16L * maxTokens);
        assertThat(think.generatedTokens()).isEqualTo(16L * maxTokens);
    }

    @Test
    void requestThatCanNeverFitIsRejectedWith400() {
        try (Scheduler s = scheduler(10 * TestModel.DENSE_PER_TOKEN, 4, 0, new Metrics(1))) {
            assertThatThrownBy(() -> s.submit(greedy("Once upon a time", 20, "full")))
                    .isInstanceOfSatisfying(ApiException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.code()).isEqualTo("kv_budget_exceeded");
                        assertThat(e.getMessage()).contains("--kv-budget");
                    });
        }
    }

    @Test
    void fullQueueGets429AndCancellationFreesTheBytesAtOnce() throws Exception {
        int maxTokens = 400;
        int[] ids = TestModel.TOKENIZER.encode("Once upon a time", true, false);
        // Fits one such sequence, not two.
        long budget = (long) (ids.length + maxTokens) * TestModel.DENSE_PER_TOKEN * 3 / 2;
        Metrics metrics = new Metrics(budget);
        try (Scheduler s = scheduler(budget, 1, 0, metrics)) {
            SequenceHandle a = s.submit(greedy("Once upon a time", maxTokens, "full"));
            await(() -> metrics.activeSequences() == 1);
            SequenceHandle b = s.submit(greedy("Once upon a time", maxTokens, "full"));
            await(() -> metrics.queuedSequences() == 1);
            assertThatThrownBy(() -> s.submit(greedy("Once upon a time", maxTokens, "full")))
                    .isInstanceOfSatisfying(ApiException.class, e -> {
                        assertThat(e.status()).isEqualTo(429);
                        assertThat(e.code()).isEqualTo("queue_full");
                    });
            a.cancel();
            b.cancel();
            assertThat(drain(a).finished().reason()).isEqualTo(StopReason.CANCELLED);
            assertThat(drain(b).finished().reason()).isEqualTo(StopReason.CANCELLED);
            await(() -> metrics.activeSequences() == 0 && metrics.queuedSequences() == 0 && metrics.kvReservedBytes() == 0
                    && metrics.kvBytesInUse() == 0);
            assertThat(metrics.kvPrefixBytes()).as("a cancelled cache is freed, not kept").isZero();
        }
    }

    @Test
    void followUpTurnReusesTheCachedPrefixOfTheSameSpecOnly() throws Exception {
        Metrics metrics = new Metrics(1L << 26);
        try (Scheduler s = scheduler(1L << 26, 8, 4, metrics)) {
            // With max_tokens 1 the only sampled token is never fed, so the cache holds exactly the prompt.
            GenerationRequest first = greedy("Once upon a time", 1, "think:0.5");
            assertThat(drain(s.submit(first)).finished().reusedPrefixTokens()).isZero();
            await(() -> metrics.kvPrefixBytes() > 0);
            int[] turn2 = java.util.Arrays.copyOf(first.promptIds(), first.promptIds().length + 3);
            System.arraycopy(TestModel.TOKENIZER.encode(" Lily ran", false, false), 0, turn2, first.promptIds().length, 3);
            Outcome other = drain(s.submit(new GenerationRequest(turn2, 4, SamplerConfig.greedy(), List.of(), new int[0], "full")));
            assertThat(other.finished().reusedPrefixTokens()).as("a different spec never reuses the cache").isZero();
            Outcome o2 = drain(s.submit(new GenerationRequest(turn2, 4, SamplerConfig.greedy(), List.of(), new int[0],
                    "think:0.5")));
            assertThat(o2.finished().reusedPrefixTokens()).isEqualTo(first.promptIds().length);
            assertThat(o2.finished().completionTokens()).isEqualTo(4);
            assertThat(metrics.prefixHits()).isEqualTo(1);
            s.clearPrefixCache();
            await(() -> metrics.kvPrefixBytes() == 0 && metrics.kvReservedBytes() == 0);
        }
    }

    @Test
    void prefixCacheIsEvictedWhenANewSequenceNeedsTheSpace() throws Exception {
        int maxTokens = 40;
        int[] a = TestModel.TOKENIZER.encode("Once upon a time", true, false);
        int[] b = TestModel.TOKENIZER.encode("The dog ran fast", true, false);
        long one = (long) (Math.max(a.length, b.length) + maxTokens) * TestModel.DENSE_PER_TOKEN;
        Metrics metrics = new Metrics(one);
        try (Scheduler s = scheduler(one, 4, 4, metrics)) {
            drain(s.submit(greedy("Once upon a time", maxTokens, "full")));
            await(() -> metrics.kvPrefixBytes() > 0);
            // Same budget, unrelated prompt: only fits after the kept cache is dropped.
            Outcome o = drain(s.submit(greedy("The dog ran fast", maxTokens, "full")));
            assertThat(o.finished().reason()).isIn(StopReason.LENGTH, StopReason.EOS);
            assertThat(metrics.kvPrefixBytes()).as("only the second cache is kept").isLessThanOrEqualTo(one);
        }
    }
}
