package dev.think4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults against a live server: a failure inside one sequence, a failed batched forward, a scheduler
 * that dies, clients that leave (streaming and not) and a shutdown with streams in flight. Every
 * request must get a complete answer or a proper error (an error body, or an SSE error event then
 * [DONE]); the loop must go on; KV in use must return to 0. Requests are told apart by max_tokens,
 * which the injected faults match on.
 */
@Timeout(120)
class FaultToleranceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private InferenceServer server;
    private HttpClient http;
    private String base;
    private final Faults faults = new Faults();

    /** Hooks whose behaviour each test sets; all run on the scheduler thread. */
    static final class Faults implements SchedulerHooks {
        volatile Runnable onIteration = () -> { };
        volatile SampleHook onSample = (r, produced) -> { };
        volatile Consumer<GenerationRequest> onPrefill = r -> { };
        volatile Consumer<List<GenerationRequest>> onBatch = b -> { };

        interface SampleHook {
            void accept(GenerationRequest r, int produced);
        }

        @Override
        public void iteration() {
            onIteration.run();
        }

        @Override
        public void beforeSample(GenerationRequest request, int produced) {
            onSample.accept(request, produced);
        }

        @Override
        public void beforePrefillChunk(GenerationRequest request, int from, int n) {
            onPrefill.accept(request);
        }

        @Override
        public void beforeDecodeBatch(List<GenerationRequest> batch) {
            onBatch.accept(batch);
        }
    }

    @BeforeEach
    void start() {
        server = TestModel.start(1L << 26, 64, 32, 0);
        server.scheduler().hooks(faults);
        base = "http://127.0.0.1:" + server.port();
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() {
        http.close();
        server.close();
    }

    /** What one request got back, streaming or not. */
    record Answer(int status, String text, String finishReason, JsonNode error, boolean done) {
        /** Complete (a finish reason) or a proper error; a stream either way ends with [DONE]. */
        boolean complete() {
            return status == 200 && error == null && finishReason != null && !finishReason.equals("null");
        }

        boolean properError(int expectedStatus, String code) {
            return status == expectedStatus && error != null && error.path("code").asText().equals(code)
                    && !error.path("message").asText().isBlank();
        }
    }

    private static String body(String prompt, int maxTokens, boolean stream) {
        return JSON.createObjectNode().put("model", TestModel.ID).put("prompt", prompt).put("max_tokens", maxTokens)
                .put("temperature", 0).put("stream", stream).toString();
    }

    private HttpRequest request(String prompt, int maxTokens, boolean stream) {
        return HttpRequest.newBuilder(URI.create(base + "/v1/completions")).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body(prompt, maxTokens, stream))).build();
    }

    private Answer whole(String prompt, int maxTokens) throws Exception {
        HttpResponse<String> r = http.send(request(prompt, maxTokens, false), HttpResponse.BodyHandlers.ofString());
        assertThat(r.headers().firstValue("content-type")).get().asString().startsWith("application/json");
        JsonNode root = JSON.readTree(r.body());
        if (r.statusCode() != 200) {
            return new Answer(r.statusCode(), null, null, root.get("error"), false);
        }
        return new Answer(200, root.at("/choices/0/text").asText(), root.at("/choices/0/finish_reason").asText(), null, false);
    }

    /** Reads a stream to its end; an error event must be followed by [DONE] and nothing else. */
    private Answer stream(String prompt, int maxTokens) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = http.send(request(prompt, maxTokens, true),
                HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
            String b = String.join("\n", r.body().toList());
            return new Answer(r.statusCode(), null, null, JSON.readTree(b).get("error"), false);
        }
        List<String> data = r.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        boolean done = !data.isEmpty() && data.getLast().equals("[DONE]");
        assertThat(data.stream().filter("[DONE]"::equals).count()).as("one [DONE]").isEqualTo(1);
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode error = null;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode n = JSON.readTree(d);
            if (n.has("error")) {
                assertThat(error).as("one error event").isNull();
                error = n.get("error");
                continue;
            }
            assertThat(error).as("nothing but [DONE] after an error event").isNull();
            JsonNode c = n.get("choices").get(0);
            text.append(c.get("text").asText());
            if (!c.get("finish_reason").isNull()) {
                finish = c.get("finish_reason").asText();
            }
        }
        return new Answer(200, text.toString(), finish, error, done);
    }

    private void awaitNoKv() throws InterruptedException {
        Metrics m = server.metrics();
        SchedulerTest.await(() -> m.activeSequences() == 0 && m.queuedSequences() == 0 && m.kvBytesInUse() == 0
                && m.kvReservedBytes() == 0 && m.kvPrefixBytes() == 0);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aFailureInOneSequenceEndsOnlyThatSequenceAndTheLoopGoesOn() throws Exception {
        String[] prompts = {"Once upon a time", "Lily and Ben", "The cat sat", "Tom had a red ball"};
        List<String> reference = new ArrayList<>();
        for (String p : prompts) {
            Answer a = whole(p, 24);
            assertThat(a.complete()).isTrue();
            reference.add(a.text());
        }
        // 37: the sampler throws at the sixth token; 38: the prefill throws.
        faults.onSample = (r, produced) -> {
            if (r.maxTokens() == 37 && produced == 5) {
                throw new IllegalStateException("injected sampler fault");
            }
        };
        faults.onPrefill = r -> {
            if (r.maxTokens() == 38) {
                throw new IllegalStateException("injected prefill fault");
            }
        };
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Answer>> good = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String p = prompts[i % prompts.length];
                good.add(i % 2 == 0 ? pool.submit(() -> stream(p, 24)) : pool.submit(() -> whole(p, 24)));
            }
            Future<Answer> badStream = pool.submit(() -> stream("Once upon a time", 37));
            Future<Answer> badWhole = pool.submit(() -> whole("Once upon a time", 37));
            Future<Answer> badPrefillStream = pool.submit(() -> stream("Lily and Ben", 38));
            Future<Answer> badPrefillWhole = pool.submit(() -> whole("Lily and Ben", 38));
            for (int i = 0; i < good.size(); i++) {
                Answer a = good.get(i).get(60, TimeUnit.SECONDS);
                assertThat(a.complete()).as("request " + i + ": " + a).isTrue();
                assertThat(a.text()).isEqualTo(reference.get(i % prompts.length));
            }
            for (Future<Answer> f : List.of(badStream, badPrefillStream)) {
                Answer a = f.get(60, TimeUnit.SECONDS);
                assertThat(a.properError(200, "internal_error")).as(a.toString()).isTrue();
                assertThat(a.done()).isTrue();
                assertThat(a.finishReason()).isNull();
            }
            for (Future<Answer> f : List.of(badWhole, badPrefillWhole)) {
                Answer a = f.get(60, TimeUnit.SECONDS);
                assertThat(a.properError(500, "internal_error")).as(a.toString()).isTrue();
                assertThat(a.error().get("type").asText()).isEqualTo("server_error");
                assertThat(a.error().get("message").asText()).contains("injected");
            }
        }
        assertThat(server.metrics().sequenceFailures()).isEqualTo(4);
        awaitNoKv();
        // The loop is alive: health is fine and the next request gets the same text as before.
        assertThat(get("/health").statusCode()).isEqualTo(200);
        assertThat(whole(prompts[0], 24).text()).isEqualTo(reference.get(0));
        assertThat(get("/metrics").body()).contains("think4j_sequence_failures_total 4\n", "think4j_scheduler_up 1\n",
                "think4j_kv_bytes_in_use 0\n");
    }

    @Test
    void aFailedBatchedForwardEndsThatBatchOnly() throws Exception {
        AtomicBoolean once = new AtomicBoolean();
        CountDownLatch allDecoding = new CountDownLatch(1);
        faults.onBatch = batch -> {
            // Wait until the three sequences share one batch, then break that forward pass once.
            if (batch.size() == 3 && batch.stream().anyMatch(r -> r.maxTokens() == 39) && once.compareAndSet(false, true)) {
                allDecoding.countDown();
                throw new IllegalStateException("injected batched forward fault");
            }
        };
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Answer>> answers = new ArrayList<>();
            answers.add(pool.submit(() -> stream("Once upon a time", 39)));
            answers.add(pool.submit(() -> stream("Lily and Ben", 200)));
            answers.add(pool.submit(() -> whole("The cat sat", 200)));
            assertThat(allDecoding.await(30, TimeUnit.SECONDS)).isTrue();
            int failed = 0;
            for (Future<Answer> f : answers) {
                Answer a = f.get(60, TimeUnit.SECONDS);
                if (a.complete()) {
                    continue;
                }
                failed++;
                assertThat(a.properError(a.status() == 200 ? 200 : 500, "internal_error")).as(a.toString()).isTrue();
                assertThat(a.error().get("message").asText()).contains("batched decode");
            }
            assertThat(failed).as("the whole batch fails, nothing else").isEqualTo(3);
        }
        awaitNoKv();
        assertThat(whole("Once upon a time", 8).complete()).isTrue();
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void aSchedulerThatDiesIsReportedByHealthAndRefusesWork() throws Exception {
        AtomicBoolean broken = new AtomicBoolean();
        faults.onIteration = () -> {
            if (broken.get()) {
                throw new IllegalStateException("injected loop fault");
            }
        };
        assertThat(get("/health").statusCode()).isEqualTo(200);
        broken.set(true);
        // Wakes the loop, which now fails every iteration and gives up after a few.
        Answer first = whole("Once upon a time", 8);
        assertThat(first.status()).isIn(500, 503);
        assertThat(first.error()).isNotNull();
        SchedulerTest.await(() -> server.scheduler().failure() != null);
        HttpResponse<String> health = get("/health");
        assertThat(health.statusCode()).isEqualTo(503);
        JsonNode h = JSON.readTree(health.body());
        assertThat(h.get("status").asText()).isEqualTo("error");
        assertThat(h.at("/error/code").asText()).isEqualTo("scheduler_failed");
        assertThat(h.at("/error/message").asText()).contains("injected loop fault");
        Answer later = whole("Once upon a time", 8);
        assertThat(later.properError(503, "scheduler_failed")).as(later.toString()).isTrue();
        Answer laterStream = stream("Once upon a time", 8);
        assertThat(laterStream.properError(503, "scheduler_failed")).as(laterStream.toString()).isTrue();
        assertThat(get("/metrics").body()).contains("think4j_scheduler_up 0\n");
        awaitNoKv();
    }

    /** Sends a raw completion request and returns the open socket. */
    private Socket raw(String body) throws Exception {
        Socket socket = new Socket("127.0.0.1", server.port());
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
        out.flush();
        return socket;
    }

    @Test
    void clientsThatLeaveAreCancelledWhetherStreamingOrNot() throws Exception {
        // Slow these two sequences down so the clients can leave long before max_tokens.
        AtomicInteger wholeProduced = new AtomicInteger();
        AtomicInteger streamProduced = new AtomicInteger();
        faults.onSample = (r, produced) -> {
            if (r.maxTokens() == 1500) {
                wholeProduced.set(produced);
                sleep(2);
            } else if (r.maxTokens() == 1400) {
                streamProduced.set(produced);
                sleep(2);
            }
        };
        long before499 = server.metrics().requests(GenerationEndpoint.CLIENT_CLOSED);
        try (Socket s = raw(body("Once upon a time", 1500, false))) {
            SchedulerTest.await(() -> wholeProduced.get() >= 20);
        }
        SchedulerTest.await(() -> server.metrics().requests(GenerationEndpoint.CLIENT_CLOSED) == before499 + 1);
        awaitNoKv();
        assertThat(wholeProduced.get()).as("cancelled well before max_tokens").isLessThan(1000);
        assertThat(server.metrics().requests(200)).as("a disconnect is not logged as a success").isZero();

        try (Socket s = raw(body("Once upon a time", 1400, true))) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            while (events < 3) {
                String line = in.readLine();
                assertThat(line).isNotNull();
                if (line.startsWith("data: ")) {
                    events++;
                }
            }
        }
        SchedulerTest.await(() -> server.metrics().requests(GenerationEndpoint.CLIENT_CLOSED) == before499 + 2);
        awaitNoKv();
        assertThat(streamProduced.get()).as("cancelled well before max_tokens").isLessThan(1000);
        assertThat(whole("Once upon a time", 8).complete()).isTrue();
    }

    @Test
    void aClientThatLeavesWhileQueuedIsDroppedBeforeItRuns() throws Exception {
        // One slow sequence fills a one-sequence budget; the second waits in the queue, then leaves.
        int[] ids = TestModel.TOKENIZER.encode("Once upon a time", true, false);
        server.close();
        server = TestModel.start((long) (ids.length + 1500) * TestModel.DENSE_PER_TOKEN * 3 / 2, 8, 8, 0);
        server.scheduler().hooks(faults);
        base = "http://127.0.0.1:" + server.port();
        AtomicBoolean release = new AtomicBoolean();
        AtomicInteger secondSamples = new AtomicInteger();
        faults.onSample = (r, produced) -> {
            if (r.maxTokens() == 1500) {
                if (!release.get()) {
                    sleep(5);
                }
            } else if (r.maxTokens() == 1499) {
                secondSamples.incrementAndGet();
            }
        };
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Answer> first = pool.submit(() -> whole("Once upon a time", 1500));
            SchedulerTest.await(() -> server.metrics().activeSequences() == 1);
            try (Socket s = raw(body("Once upon a time", 1499, false))) {
                SchedulerTest.await(() -> server.metrics().queuedSequences() == 1);
            }
            // The probe notices within a poll; the scheduler drops the queued handle at its next admission pass.
            SchedulerTest.await(() -> server.metrics().requests(GenerationEndpoint.CLIENT_CLOSED) == 1);
            release.set(true);
            assertThat(first.get(60, TimeUnit.SECONDS).complete()).isTrue();
            SchedulerTest.await(() -> server.metrics().queuedSequences() == 0 && server.metrics().activeSequences() == 0);
        }
        assertThat(secondSamples.get()).as("the request that left never decoded").isZero();
        awaitNoKv();
    }

    @Test
    void shutdownDrainsFinishesWhatFitsTheGraceAndEndsTheRestWithErrors() throws Exception {
        AtomicInteger slowSampled = new AtomicInteger();
        faults.onSample = (r, produced) -> {
            if (r.maxTokens() >= 1000) {
                slowSampled.incrementAndGet();
                sleep(3);
            }
        };
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Answer>> slowStreams = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                slowStreams.add(pool.submit(() -> stream("Once upon a time", 1000)));
            }
            Future<Answer> slowWhole = pool.submit(() -> whole("Lily and Ben", 1000));
            SchedulerTest.await(() -> server.metrics().activeSequences() == 5 && slowSampled.get() > 20);
            // A short request admitted before the shutdown finishes within the grace period.
            Future<Answer> quick = pool.submit(() -> stream("The cat sat", 4));
            SchedulerTest.await(() -> server.metrics().activeSequences() == 6 || quick.isDone());
            Future<?> shutdown = pool.submit(() -> server.shutdown(Duration.ofMillis(1500)));
            SchedulerTest.await(() -> server.scheduler().draining());
            // While draining: new requests get 503 with Retry-After, health says so too.
            HttpResponse<String> refused = http.send(request("Once upon a time", 4, false), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("retry-after")).isPresent();
            assertThat(JSON.readTree(refused.body()).at("/error/code").asText()).isEqualTo("shutting_down");
            HttpResponse<String> health = get("/health");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(health.body()).get("status").asText()).isEqualTo("shutting_down");

            assertThat(quick.get(30, TimeUnit.SECONDS).complete()).isTrue();
            for (Future<Answer> f : slowStreams) {
                Answer a = f.get(30, TimeUnit.SECONDS);
                assertThat(a.properError(200, "shutting_down")).as(a.toString()).isTrue();
                assertThat(a.done()).isTrue();
                assertThat(a.text()).as("text before the cut was delivered").isNotEmpty();
            }
            Answer w = slowWhole.get(30, TimeUnit.SECONDS);
            assertThat(w.properError(503, "shutting_down")).as(w.toString()).isTrue();
            shutdown.get(30, TimeUnit.SECONDS);
        }
        Metrics m = server.metrics();
        assertThat(m.activeSequences()).isZero();
        assertThat(m.kvBytesInUse()).isZero();
        assertThat(m.kvReservedBytes()).isZero();
    }
}
