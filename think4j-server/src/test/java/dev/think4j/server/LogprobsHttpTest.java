package dev.think4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** OpenAI's logprobs / top_logprobs (chat) and logprobs (completions), whole and streamed, single and batched. */
@Timeout(120)
class LogprobsHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static InferenceServer server;
    private static HttpClient http;
    private static String base;

    @BeforeAll
    static void start() {
        server = TestModel.start(1L << 26, 64, 8, 0);
        base = "http://127.0.0.1:" + server.port();
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        http.close();
        server.close();
    }

    private static HttpResponse<String> post(String path, JsonNode body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static ObjectNode chat(String text, int maxTokens) {
        ObjectNode b = JSON.createObjectNode().put("model", TestModel.ID).put("max_tokens", maxTokens).put("temperature", 0);
        b.putArray("messages").addObject().put("role", "user").put("content", text);
        return b;
    }

    private static ObjectNode completion(String prompt, int maxTokens) {
        return JSON.createObjectNode().put("model", TestModel.ID).put("prompt", prompt).put("max_tokens", maxTokens)
                .put("temperature", 0);
    }

    private static JsonNode whole(String path, JsonNode body) throws Exception {
        HttpResponse<String> r = post(path, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** The data lines of a stream, [DONE] excluded (checked to be last). */
    private static List<JsonNode> stream(String path, ObjectNode body) throws Exception {
        body.put("stream", true);
        HttpResponse<String> r = post(path, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertThat(data).last().isEqualTo("[DONE]");
        List<JsonNode> out = new ArrayList<>();
        for (String d : data.subList(0, data.size() - 1)) {
            out.add(JSON.readTree(d));
        }
        return out;
    }

    private static void assertChatEntry(JsonNode e, int top) {
        assertThat(e.get("logprob").asDouble()).isLessThanOrEqualTo(0);
        byte[] bytes = new byte[e.get("bytes").size()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) e.get("bytes").get(i).asInt();
        }
        assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo(e.get("token").asText());
        JsonNode alts = e.get("top_logprobs");
        assertThat(alts.size()).isEqualTo(top);
        for (int i = 1; i < alts.size(); i++) {
            assertThat(alts.get(i).get("logprob").asDouble()).isLessThanOrEqualTo(alts.get(i - 1).get("logprob").asDouble());
        }
        // greedy: the chosen token is the most likely one
        assertThat(alts.get(0).get("token")).isEqualTo(e.get("token"));
        assertThat(alts.get(0).get("logprob").asDouble()).isEqualTo(e.get("logprob").asDouble());
    }

    @Test
    void chatWholeAndStreamedCarryTheSameLogprobsAndTheSameText() throws Exception {
        JsonNode plain = whole("/v1/chat/completions", chat("Once upon a time", 16));
        assertThat(plain.at("/choices/0/logprobs").isNull()).isTrue();

        ObjectNode req = chat("Once upon a time", 16).put("logprobs", true).put("top_logprobs", 3);
        JsonNode w = whole("/v1/chat/completions", req);
        String text = w.at("/choices/0/message/content").asText();
        assertThat(text).isEqualTo(plain.at("/choices/0/message/content").asText());
        JsonNode content = w.at("/choices/0/logprobs/content");
        assertThat(content.size()).isEqualTo(w.at("/usage/completion_tokens").asInt()).isPositive();
        StringBuilder joined = new StringBuilder();
        for (JsonNode e : content) {
            assertChatEntry(e, 3);
            joined.append(e.get("token").asText());
        }
        assertThat(joined.toString()).isEqualTo(text);

        ArrayNode streamed = JSON.createArrayNode();
        StringBuilder streamedText = new StringBuilder();
        for (JsonNode chunk : stream("/v1/chat/completions", req.deepCopy())) {
            JsonNode c = chunk.at("/choices/0");
            streamedText.append(c.at("/delta/content").asText(""));
            JsonNode lp = c.get("logprobs");
            if (lp != null && !lp.isNull()) {
                // a chunk's log-probs are those of the tokens that made its text
                StringBuilder chunkTokens = new StringBuilder();
                for (JsonNode e : lp.get("content")) {
                    streamed.add(e);
                    chunkTokens.append(e.get("token").asText());
                }
                assertThat(chunkTokens.toString()).isEqualTo(c.at("/delta/content").asText());
            }
        }
        assertThat(streamedText.toString()).isEqualTo(text);
        assertThat(streamed).isEqualTo(content);
    }

    @Test
    void topLogprobsZeroStillGivesTheChosenTokens() throws Exception {
        JsonNode w = whole("/v1/chat/completions", chat("Lily and Ben", 6).put("logprobs", true));
        JsonNode content = w.at("/choices/0/logprobs/content");
        assertThat(content.size()).isEqualTo(6);
        for (JsonNode e : content) {
            assertThat(e.get("top_logprobs").size()).isZero();
        }
    }

    @Test
    void completionsWholeAndStreamedInTheLegacyShape() throws Exception {
        ObjectNode req = completion("Once upon a time", 16).put("logprobs", 2);
        JsonNode w = whole("/v1/completions", req);
        String text = w.at("/choices/0/text").asText();
        JsonNode lp = w.at("/choices/0/logprobs");
        int n = w.at("/usage/completion_tokens").asInt();
        assertThat(lp.get("tokens").size()).isEqualTo(n);
        assertThat(lp.get("token_logprobs").size()).isEqualTo(n);
        assertThat(lp.get("top_logprobs").size()).isEqualTo(n);
        assertThat(lp.get("text_offset").size()).isEqualTo(n);
        int offset = 0;
        for (int i = 0; i < n; i++) {
            String token = lp.get("tokens").get(i).asText();
            assertThat(lp.get("text_offset").get(i).asInt()).isEqualTo(offset);
            assertThat(text.substring(offset, offset + token.length())).isEqualTo(token);
            offset += token.length();
            JsonNode top = lp.get("top_logprobs").get(i);
            assertThat(top.size()).isEqualTo(2);
            // greedy: the chosen token leads the map with its own log-prob
            Iterator<Map.Entry<String, JsonNode>> it = top.fields();
            Map.Entry<String, JsonNode> first = it.next();
            assertThat(first.getKey()).isEqualTo(token);
            assertThat(first.getValue().asDouble()).isEqualTo(lp.get("token_logprobs").get(i).asDouble());
            assertThat(it.next().getValue().asDouble()).isLessThanOrEqualTo(first.getValue().asDouble());
        }
        assertThat(offset).isEqualTo(text.length());

        ObjectNode merged = JSON.createObjectNode();
        for (String f : new String[] {"tokens", "token_logprobs", "top_logprobs", "text_offset"}) {
            merged.putArray(f);
        }
        StringBuilder streamedText = new StringBuilder();
        for (JsonNode chunk : stream("/v1/completions", req.deepCopy())) {
            JsonNode c = chunk.at("/choices/0");
            streamedText.append(c.get("text").asText());
            if (!c.get("logprobs").isNull()) {
                for (String f : new String[] {"tokens", "token_logprobs", "top_logprobs", "text_offset"}) {
                    ((ArrayNode) merged.get(f)).addAll((ArrayNode) c.get("logprobs").get(f));
                }
            }
        }
        assertThat(streamedText.toString()).isEqualTo(text);
        assertThat(merged).isEqualTo(lp);
    }

    /** A stop string's own tokens are generated and counted, so they keep their log-probs (text is cut). */
    @Test
    void stopStringTokensKeepTheirLogprobs() throws Exception {
        JsonNode free = whole("/v1/completions", completion("Once upon a time", 16));
        String full = free.at("/choices/0/text").asText();
        String stop = full.substring(full.indexOf(' ', 3), full.indexOf(' ', 3) + 4);
        for (boolean streamed : new boolean[] {false, true}) {
            ObjectNode req = completion("Once upon a time", 16).put("logprobs", 1);
            req.putArray("stop").add(stop);
            int tokens = 0;
            int completionTokens;
            if (!streamed) {
                JsonNode w = whole("/v1/completions", req);
                assertThat(w.at("/choices/0/text").asText()).doesNotContain(stop);
                tokens = w.at("/choices/0/logprobs/tokens").size();
                completionTokens = w.at("/usage/completion_tokens").asInt();
            } else {
                req.putObject("stream_options").put("include_usage", true);
                List<JsonNode> chunks = stream("/v1/completions", req);
                for (JsonNode c : chunks) {
                    JsonNode lp = c.at("/choices/0/logprobs");
                    if (!lp.isMissingNode() && !lp.isNull()) {
                        tokens += lp.get("tokens").size();
                    }
                }
                completionTokens = chunks.getLast().at("/usage/completion_tokens").asInt();
            }
            assertThat(tokens).as("streamed " + streamed).isEqualTo(completionTokens).isPositive();
        }
    }

    /** Sequences decoded in one batch each get their own log-probs: the same as when each runs alone. */
    @Test
    void batchedSequencesReportWhatTheyReportAlone() throws Exception {
        String[] prompts = {"Once upon a time", "Lily and Ben", "The cat sat", "One day, a big dog", "Tom had a red ball",
            "The sun was"};
        List<JsonNode> alone = new ArrayList<>();
        for (String p : prompts) {
            alone.add(whole("/v1/chat/completions", chat(p, 12).put("logprobs", true).put("top_logprobs", 2))
                    .at("/choices/0/logprobs/content"));
        }
        long peakBefore = server.metrics().peakActiveSequences();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<ArrayNode>> futures = new ArrayList<>();
            for (int i = 0; i < 3 * prompts.length; i++) {
                String p = prompts[i % prompts.length];
                futures.add(pool.submit(() -> {
                    ArrayNode got = JSON.createArrayNode();
                    for (JsonNode chunk : stream("/v1/chat/completions", chat(p, 12).put("logprobs", true).put("top_logprobs", 2))) {
                        JsonNode lp = chunk.at("/choices/0/logprobs");
                        if (!lp.isMissingNode() && !lp.isNull()) {
                            got.addAll((ArrayNode) lp.get("content"));
                        }
                    }
                    return got;
                }));
            }
            for (int i = 0; i < futures.size(); i++) {
                ArrayNode got = futures.get(i).get(60, TimeUnit.SECONDS);
                JsonNode ref = alone.get(i % prompts.length);
                assertThat(got.size()).as("request " + i).isEqualTo(ref.size());
                for (int t = 0; t < got.size(); t++) {
                    assertThat(got.get(t).get("token")).isEqualTo(ref.get(t).get("token"));
                    // a batch row may sum in another order than a lone decode
                    assertThat(got.get(t).get("logprob").asDouble()).isCloseTo(ref.get(t).get("logprob").asDouble(), within(1e-4));
                    for (int a = 0; a < 2; a++) {
                        assertThat(got.get(t).at("/top_logprobs/" + a + "/logprob").asDouble())
                                .isCloseTo(ref.get(t).at("/top_logprobs/" + a + "/logprob").asDouble(), within(1e-4));
                    }
                }
            }
        }
        assertThat(Math.max(peakBefore, server.metrics().peakActiveSequences())).isGreaterThan(1);
    }

    @Test
    void invalidValuesAre400sNamingTheParameter() throws Exception {
        record Bad(String path, ObjectNode body, String param) {
        }
        List<Bad> bad = List.of(
                new Bad("/v1/chat/completions", chat("x", 2).put("logprobs", true).put("top_logprobs", 21), "top_logprobs"),
                new Bad("/v1/chat/completions", chat("x", 2).put("logprobs", true).put("top_logprobs", -1), "top_logprobs"),
                new Bad("/v1/chat/completions", chat("x", 2).put("top_logprobs", 2), "top_logprobs"),
                new Bad("/v1/chat/completions", chat("x", 2).put("logprobs", 3), "logprobs"),
                new Bad("/v1/completions", completion("x", 2).put("logprobs", 21), "logprobs"),
                new Bad("/v1/completions", completion("x", 2).put("logprobs", true), "logprobs"),
                new Bad("/v1/completions", completion("x", 2).put("logprobs", -2), "logprobs"));
        for (Bad b : bad) {
            HttpResponse<String> r = post(b.path(), b.body());
            assertThat(r.statusCode()).as(b.body().toString()).isEqualTo(400);
            JsonNode err = JSON.readTree(r.body()).get("error");
            assertThat(err.get("type").asText()).isEqualTo("invalid_request_error");
            assertThat(err.get("param").asText()).isEqualTo(b.param());
            assertThat(err.get("message").asText()).contains(b.param());
        }
    }

    /** The official OpenAI Java client reads the chat shape into its typed objects. */
    @Test
    void officialClientParsesChatLogprobs() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey("unused").maxRetries(0)
                .timeout(Duration.ofSeconds(30)).build();
        try {
            ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(TestModel.ID)
                    .addUserMessage("Once upon a time").maxTokens(8).temperature(0.0).logprobs(true).topLogprobs(4).build());
            List<ChatCompletionTokenLogprob> content = c.choices().get(0).logprobs().orElseThrow().content().orElseThrow();
            assertThat(content).hasSize(8);
            StringBuilder text = new StringBuilder();
            for (ChatCompletionTokenLogprob t : content) {
                assertThat(t.topLogprobs()).hasSize(4);
                assertThat(t.topLogprobs().get(0).token()).isEqualTo(t.token());
                assertThat(t.bytes()).isPresent();
                text.append(t.token());
            }
            assertThat(text.toString()).isEqualTo(c.choices().get(0).message().content().orElseThrow());
        } finally {
            client.close();
        }
    }
}
