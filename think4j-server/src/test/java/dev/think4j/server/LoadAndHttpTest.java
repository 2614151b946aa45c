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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Raw HTTP: a bounded concurrent streaming load, malformed requests, disconnects and metrics. */
@Timeout(120)
class LoadAndHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static InferenceServer server;
    private static HttpClient http;
    private static String base;

    @BeforeAll
    static void start() {
        server = TestModel.start(1L << 26, 128, 32, 4);
        base = "http://127.0.0.1:" + server.port();
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        http.close();
        server.close();
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String body(String prompt, int maxTokens, boolean stream) {
        return JSON.createObjectNode().put("model", TestModel.ID).put("prompt", prompt).put("max_tokens", maxTokens)
                .put("temperature", 0).put("stream", stream).toString();
    }

    /** Streams one completion and returns its text pieces in arrival order, checking the SSE framing. */
    private static List<String> stream(String prompt, int maxTokens) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body(prompt, maxTokens, true))).build(),
                HttpResponse.BodyHandlers.ofLines());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).get().asString().startsWith("text/event-stream");
        List<String> pieces = new ArrayList<>();
        List<String> data = r.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertThat(data).last().isEqualTo("[DONE]");
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode choice = JSON.readTree(d).get("choices").get(0);
            pieces.add(choice.get("text").asText());
        }
        assertThat(JSON.readTree(data.get(data.size() - 2)).at("/choices/0/finish_reason").asText()).isIn("length", "stop");
        return pieces;
    }

    private static String whole(String prompt, int maxTokens) throws Exception {
        HttpResponse<String> r = post("/v1/completions", body(prompt, maxTokens, false));
        assertThat(r.statusCode()).isEqualTo(200);
        return JSON.readTree(r.body()).at("/choices/0/text").asText();
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("error");
    }

    @Test
    void sixtyFourConcurrentStreamsMatchSingleRequestsAndLeaveNoKvBehind() throws Exception {
        String[] prompts = {"Once upon a time", "Lily and Ben", "The cat sat", "One day, a big dog", "Tom had a red ball",
            "The sun was", "Mom said", "A little bird"};
        int maxTokens = 12;
        List<String> reference = new ArrayList<>();
        for (String p : prompts) {
            reference.add(whole(p, maxTokens));
        }
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<List<String>>> futures = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                String p = prompts[i % prompts.length];
                futures.add(pool.submit(() -> stream(p, maxTokens)));
            }
            for (int i = 0; i < 64; i++) {
                List<String> pieces = futures.get(i).get(60, TimeUnit.SECONDS);
                // Pieces arrive in order: their concatenation is exactly the single-request greedy text.
                assertThat(String.join("", pieces)).as("request " + i).isEqualTo(reference.get(i % prompts.length));
            }
        }
        assertThat(System.nanoTime() - t0).as("load test wall time").isLessThan(30_000_000_000L);
        assertThat(server.metrics().peakActiveSequences()).isGreaterThan(1);
        SchedulerTest.await(() -> server.metrics().activeSequences() == 0 && server.metrics().kvBytesInUse() == 0
                && server.metrics().kvReservedBytes() == 0 && server.metrics().queuedSequences() == 0);
        String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("think4j_kv_bytes_in_use 0\n", "think4j_active_sequences 0\n",
                "think4j_queued_sequences 0\n", "think4j_kv_budget_bytes " + (1L << 26) + "\n");
        assertThat(metrics).containsPattern("think4j_requests_total\\{status=\"200\"} \\d+");
        assertThat(server.metrics().requests(200)).isGreaterThanOrEqualTo(64 + prompts.length);
    }

    @Test
    void malformedRequestsGetOpenAiErrorsAndDoNotDisturbTheServer() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", "{not json");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error(r).get("code").asText()).isEqualTo("invalid_json");

        r = post("/v1/chat/completions", "{\"model\":\"" + TestModel.ID + "\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).get("param").asText()).isEqualTo("messages");

        r = post("/v1/completions", "{\"model\":\"" + TestModel.ID + "\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).get("param").asText()).isEqualTo("prompt");

        r = post("/v1/completions", "{\"model\":\"nope\",\"prompt\":\"a\"}");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(error(r).get("code").asText()).isEqualTo("model_not_found");

        r = post("/v1/completions", "{\"model\":\"" + TestModel.ID + "\",\"prompt\":\"a\",\"stop\":[1]}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).get("param").asText()).isEqualTo("stop");

        r = post("/v1/completions", "{\"model\":\"" + TestModel.ID + "\",\"prompt\":\"a\",\"kv\":\"snapkv:0\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).get("param").asText()).isEqualTo("kv");

        r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/nothing")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(error(r).get("message").asText()).isNotBlank();

        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(200);
        assertThat(whole("Once upon a time", 3)).isNotEmpty();
        assertThat(server.metrics().requests(400)).isGreaterThanOrEqualTo(5);
    }

    @Test
    void clientDisconnectCancelsTheSequenceAndFreesItsKv() throws Exception {
        String req = body("Once upon a time", 400, true);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + req.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + req).getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            while (events < 3) {
                String line = in.readLine();
                assertThat(line).isNotNull();
                if (line.startsWith("data: ")) {
                    events++;
                }
            }
        }
        // The stream wanted 400 tokens; the scheduler must drop it well before that and hold no KV for it.
        SchedulerTest.await(() -> server.metrics().activeSequences() == 0 && server.metrics().kvReservedBytes() == 0);
        SchedulerTest.await(() -> server.metrics().requests(499) >= 1);
    }

    /** One raw HTTP exchange on its own connection: status, lower-cased headers and body. */
    record RawResponse(int status, java.util.Map<String, String> headers, String body) {
    }

    private static RawResponse raw(String requestHead) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(requestHead.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            byte[] all = socket.getInputStream().readAllBytes();
            String text = new String(all, StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            String[] head = text.substring(0, split).split("\r\n");
            java.util.Map<String, String> headers = new java.util.HashMap<>();
            for (int i = 1; i < head.length; i++) {
                int colon = head[i].indexOf(':');
                headers.put(head[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), head[i].substring(colon + 1).trim());
            }
            return new RawResponse(Integer.parseInt(head[0].split(" ")[1]), headers, text.substring(split + 4));
        }
    }

    private static void assertJsonError(RawResponse r, int status, String code) throws Exception {
        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        assertThat(r.headers().get("content-type")).as(r.toString()).startsWith("application/json");
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertThat(e).as(r.body()).isNotNull();
        assertThat(e.get("message").asText()).isNotBlank();
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("code").asText()).isEqualTo(code);
    }

    @Test
    void errorsJettyAnswersItselfAndWrongMethodsAreOpenAiJson() throws Exception {
        assertJsonError(raw("GET /v1/models%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 400, "bad_request");
        assertJsonError(raw("GET /v1/" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 414,
                "uri_too_long");
        assertJsonError(raw("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(10_000) + "\r\nConnection: close\r\n\r\n"),
                431, "headers_too_large");
        assertJsonError(raw("GET /health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\nConnection: close\r\n\r\n"), 400,
                "bad_request");
        RawResponse wrongMethod = raw("GET /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertJsonError(wrongMethod, 405, "method_not_allowed");
        assertThat(wrongMethod.headers().get("allow")).contains("POST");
        assertJsonError(raw("DELETE /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 405, "method_not_allowed");
        assertJsonError(raw("GET /v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404, "unknown_url");
        // The server still serves afterwards.
        assertThat(whole("Once upon a time", 3)).isNotEmpty();
    }

    @Test
    void aKvSpecThatDoesNotFitTheModelIsA400NotA500() throws Exception {
        int layers = TestModel.MODEL.config().layers();
        String bad = JSON.createObjectNode().put("model", TestModel.ID).put("prompt", "Once upon a time").put("max_tokens", 4)
                .put("kv", "think:k=0.5,layers=0.5/0.5").toString();
        HttpResponse<String> r = post("/v1/completions", bad);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).get("param").asText()).isEqualTo("kv");
        assertThat(error(r).get("code").asText()).isEqualTo("invalid_kv_spec");
        assertThat(error(r).get("message").asText()).contains("layers=", layers + " layers");
        String good = JSON.createObjectNode().put("model", TestModel.ID).put("prompt", "Once upon a time").put("max_tokens", 4)
                .put("kv", "think:k=0.5,layers=" + String.join("/", java.util.Collections.nCopies(layers, "0.5"))).toString();
        assertThat(post("/v1/completions", good).statusCode()).isEqualTo(200);
    }
}
