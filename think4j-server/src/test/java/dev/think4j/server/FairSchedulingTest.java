package dev.think4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.generate.SamplerConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A burst of requests must not hold the streams already running (or the first of the burst) until
 * every prompt is in: counted in scheduler events, not in time, so the checks hold on any machine.
 */
@Timeout(120)
class FairSchedulingTest {
    private static final int CTX = TestModel.MODEL.config().contextLength();
    private static final int CHUNK = 128;

    private static GenerationRequest request(int[] prompt, int maxTokens) {
        return new GenerationRequest(prompt, maxTokens, SamplerConfig.greedy(), List.of(), new int[0], "full");
    }

    @Test
    void aBurstOfPromptsInterleavesWithDecodingAndStallsNoStreamForMoreThanOneChunk() throws Exception {
        int[] base = CapacityBench.prompt(TestModel.TOKENIZER, 40);
        Metrics metrics = new Metrics(1L << 28);
        try (Scheduler s = new Scheduler(TestModel.MODEL, TestModel.TOKENIZER, 1L << 28, 64, 64, CTX, 0, CHUNK, metrics)) {
            s.ignoreEos(true);
            SchedulerTest.Recorder rec = new SchedulerTest.Recorder();
            s.hooks(rec);
            GenerationRequest stream = request(TestModel.TOKENIZER.encode("Once upon a time", true, false), 200);
            SequenceHandle streamHandle = s.submit(stream);
            SchedulerTest.await(() -> rec.samples(stream) >= 3);
            List<GenerationRequest> burst = new ArrayList<>();
            List<SequenceHandle> handles = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int[] p = base.clone();
                p[p.length - 1] = base[1 + i]; // distinct prompts
                GenerationRequest r = request(p, 4);
                burst.add(r);
                handles.add(s.submit(r));
            }
            for (SequenceHandle h : handles) {
                assertThat(SchedulerTest.drain(h).finished().completionTokens()).isEqualTo(4);
            }
            assertThat(SchedulerTest.drain(streamHandle).finished().completionTokens()).isEqualTo(200);
            List<SchedulerTest.Recorder.Event> events = List.copyOf(rec.events);

            // Between two tokens of any decoding sequence at most one chunk of prompt tokens went in.
            List<GenerationRequest> all = new ArrayList<>(burst);
            all.add(stream);
            for (GenerationRequest r : all) {
                int fed = 0;
                boolean decoding = false;
                for (SchedulerTest.Recorder.Event e : events) {
                    if (e.prefill()) {
                        fed += decoding ? e.n() : 0;
                    } else if (e.request() == r) {
                        assertThat(fed).as("prompt tokens fed between two tokens of one sequence").isLessThanOrEqualTo(CHUNK);
                        decoding = true;
                        fed = 0;
                    }
                }
            }
            // The first of the burst streams long before the last prompt is in: prompts are not all fed first.
            int firstToken = indexOf(events, burst.getFirst(), false);
            int lastPrefill = lastIndexOf(events, burst.getLast(), true);
            assertThat(firstToken).isLessThan(lastPrefill);
            // Short prompts share a chunk: each went in whole, and some went in back to back, no token between.
            assertThat(events.stream().filter(e -> e.prefill() && burst.contains(e.request())).count()).isEqualTo(16);
            boolean shared = false;
            for (int i = 1; i < events.size(); i++) {
                shared |= events.get(i - 1).prefill() && events.get(i).prefill();
            }
            assertThat(shared).as("two prompts fed in one iteration").isTrue();
            SchedulerTest.await(() -> metrics.activeSequences() == 0);
        }
    }

    @Test
    void latencyMetricsCountEveryTokenAndAreOrdered() throws Exception {
        int sequences = 6;
        int maxTokens = 9;
        Metrics metrics = new Metrics(1L << 28);
        try (Scheduler s = new Scheduler(TestModel.MODEL, TestModel.TOKENIZER, 1L << 28, 8, 64, CTX, 0, CHUNK, metrics)) {
            s.ignoreEos(true);
            List<SequenceHandle> handles = new ArrayList<>();
            for (int i = 0; i < sequences; i++) {
                handles.add(s.submit(request(TestModel.TOKENIZER.encode("The dog ran " + "fast ".repeat(i), true, false), maxTokens)));
            }
            for (SequenceHandle h : handles) {
                assertThat(SchedulerTest.drain(h).finished().completionTokens()).isEqualTo(maxTokens);
            }
        }
        assertThat(metrics.generatedTokens()).isEqualTo((long) sequences * maxTokens);
        assertThat(metrics.firstTokens()).isEqualTo(sequences);
        assertThat(metrics.interTokens()).isEqualTo((long) sequences * (maxTokens - 1));
        for (double[] q : List.of(metrics.timeToFirstToken(), metrics.interTokenLatency())) {
            assertThat(q[0]).isPositive();
            assertThat(q[0]).isLessThanOrEqualTo(q[1]);
            assertThat(q[1]).isLessThanOrEqualTo(q[2]);
        }
        long steps = 0;
        for (int b = 1; b <= 8; b++) {
            steps += metrics.decodeSteps(b);
        }
        assertThat(steps).as("each token but the last of a sequence is fed in a decode step").isPositive()
                .isLessThanOrEqualTo((long) sequences * (maxTokens - 1));
        assertThat(metrics.decodeSeconds()).isPositive();
        assertThat(metrics.prefillSeconds()).isPositive();
        String text = metrics.prometheus();
        assertThat(text).contains("# TYPE think4j_time_to_first_token_seconds summary",
                "think4j_time_to_first_token_seconds{quantile=\"0.5\"} ", "think4j_time_to_first_token_seconds{quantile=\"0.99\"} ",
                "think4j_time_to_first_token_seconds_count " + sequences + "\n",
                "think4j_inter_token_latency_seconds{quantile=\"0.9\"} ",
                "think4j_inter_token_latency_seconds_count " + (long) sequences * (maxTokens - 1) + "\n",
                "think4j_decode_seconds_total ", "think4j_prefill_tokens_total ");
    }

    private static int indexOf(List<SchedulerTest.Recorder.Event> events, GenerationRequest r, boolean prefill) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).request() == r && events.get(i).prefill() == prefill) {
                return i;
            }
        }
        throw new AssertionError("no event");
    }

    private static int lastIndexOf(List<SchedulerTest.Recorder.Event> events, GenerationRequest r, boolean prefill) {
        for (int i = events.size() - 1; i >= 0; i--) {
            if (events.get(i).request() == r && events.get(i).prefill() == prefill) {
                return i;
            }
        }
        throw new AssertionError("no event");
    }
}
