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

    /** Records, in order, which sequence sampled and which prompt chunk went through, with times. */
    static final class Recorder implements SchedulerHooks {
        record Event(GenerationRequest request, boolean prefill, int from, int n, long nanos) {
        }

        final List<Event> events = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public void beforeSample(GenerationRequest request, int produced) {
            events.add(new Event(request, false, produced, 1, System.nanoTime()));
        }

        @Override
        public void beforePrefillChunk(GenerationRequest request, int from, int n) {
            events.add(new Event(request, true, from, n, System.nanoTime()));
        }

        long samples(GenerationRequest r) {
            synchronized (events) {
                return events.stream().filter(e -> e.request() == r && !e.prefill()).count();
            }
        }
    }

    /** Longest wait between two tokens of {@code stream} that overlaps the prefill of {@code prompt}. */
    static long maxGapDuringPrefill(List<Recorder.Event> events, GenerationRequest stream, GenerationRequest prompt) {
        long prefillStart = events.stream().filter(e -> e.request() == prompt && e.prefill()).mapToLong(Recorder.Event::nanos)
                .min().orElseThrow();
        long prefillEnd = events.stream().filter(e -> e.request() == prompt && !e.prefill()).mapToLong(Recorder.Event::nanos)
                .min().orElseThrow();
        long[] t = events.stream().filter(e -> e.request() == stream && !e.prefill()).mapToLong(Recorder.Event::nanos).toArray();
        long max = 0;
        for (int i = 1; i < t.length; i++) {
            if (t[i] >= prefillStart && t[i - 1] <= prefillEnd) {
                max = Math.max(max, t[i] - t[i - 1]);
            }
        }
        return max;
    }

    @Test
    void aLongPromptIsFedInChunksBetweenDecodeStepsAndDecodesAsInOnePiece() throws Exception {
        int[] longPrompt = CapacityBench.prompt(TestModel.TOKENIZER, 2000);
        GenerationResult longRef;
        GenerationResult streamRef;
        try (Session session = new Session(TestModel.MODEL, TestModel.TOKENIZER, KvPolicy.none(), CTX, 64)) {
            longRef = session.generate(longPrompt, 8, SamplerConfig.greedy(), List.of(), null, null);
        }
        try (Session session = new Session(TestModel.MODEL, TestModel.TOKENIZER, KvPolicy.none(), CTX, 64)) {
            streamRef = session.generate(TestModel.TOKENIZER.encode("Once upon a time", true, false), 300,
                    SamplerConfig.greedy(), List.of(), null, null);
        }
        // 4096 feeds the whole prompt in one piece (how the scheduler worked before chunking): the baseline.
        // It runs second, so the chunked round pays for the cold JIT.
        long[] gaps = new long[2];
        int[] chunkSizes = {256, 4096};
        for (int round = 0; round < 2; round++) {
            int chunk = chunkSizes[round];
            Metrics metrics = new Metrics(1L << 26);
            try (Scheduler s = new Scheduler(TestModel.MODEL, TestModel.TOKENIZER, 1L << 26, 8, 8, CTX, 0, chunk, metrics)) {
                Recorder rec = new Recorder();
                s.hooks(rec);
                GenerationRequest stream = greedy("Once upon a time", 300, "full");
                SequenceHandle streamHandle = s.submit(stream);
                await(() -> rec.samples(stream) >= 20);
                GenerationRequest prompt = new GenerationRequest(longPrompt, 8, SamplerConfig.greedy(), List.of(), new int[0], "full");
                Outcome longOut = drain(s.submit(prompt));
                Outcome streamOut = drain(streamHandle);
                assertThat(longOut.text()).as("chunked prefill decodes as the one-piece session").isEqualTo(longRef.text());
                assertThat(streamOut.text()).as("the interleaved stream is unchanged").isEqualTo(streamRef.text());
                assertThat(streamOut.finished().reason()).as("the stream outlives the prefill").isEqualTo(StopReason.LENGTH);
                List<Recorder.Event> events = List.copyOf(rec.events);
                List<Recorder.Event> chunks = events.stream().filter(e -> e.request() == prompt && e.prefill()).toList();
                int expected = chunk >= longPrompt.length ? 1 : (longPrompt.length + chunk - 1) / chunk;
                assertThat(chunks).hasSize(expected);
                assertThat(chunks.stream().mapToInt(Recorder.Event::n).sum()).isEqualTo(longPrompt.length);
                // Between two chunks of the prompt the running stream got a token: it waited one chunk at most.
                for (int i = 1; i < chunks.size(); i++) {
                    int a = events.indexOf(chunks.get(i - 1));
                    int b = events.indexOf(chunks.get(i));
                    assertThat(events.subList(a, b).stream().filter(e -> e.request() == stream).count())
                            .as("stream tokens between prompt chunks " + (i - 1) + " and " + i).isEqualTo(1);
                }
                gaps[round] = maxGapDuringPrefill(events, stream, prompt);
                await(() -> metrics.activeSequences() == 0 && metrics.kvBytesInUse() == 0 && metrics.kvReservedBytes() == 0);
            }
        }
        // A figure for the record, not an assertion: timings on a shared machine are not reproducible.
        System.out.printf("max inter-token gap of a running stream while a %d-token prompt is admitted: whole prompt %.1f ms,"
                + " 256-token chunks %.1f ms%n", longPrompt.length, gaps[1] / 1e6, gaps[0] / 1e6);
    }
}
