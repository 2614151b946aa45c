package dev.think4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.kv.KvSpec;
import dev.think4j.kv.session.SessionFiles;
import dev.think4j.model.Model;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The /slots endpoints through real HTTP: save a finished conversation's cache, restore it elsewhere, reuse it. */
@Timeout(120)
class SlotsHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KV = "think:0.5+kivi:2,residual=32";
    private static final String PROMPT = "Once upon a time there was a little girl named Lily. She loved to play outside in the park "
            + "with her friends. One day, she saw a big red ball in the sky and she wanted to catch it. She ran and ran. "
            + "Her mom said, \"Lily, be careful!\" Lily laughed and said, \"I will, mom!\" The ball went up and up, and Lily "
            + "jumped as high as she could. Her friend Tom came to help. Tom was tall and strong. He jumped too, and he "
            + "caught the ball. Lily was so happy. She hugged Tom and said thank you. Then they played with the ball all day";
    private static HttpClient http;

    @TempDir
    static Path dir;

    @BeforeAll
    static void client() {
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void close() {
        http.close();
    }

    private static InferenceServer start(Path slotDir) {
        return InferenceServer.start(new ServerConfig("127.0.0.1", 0, 1L << 26, KvSpec.parse(KV).spec(), 16, 8,
                TestModel.MODEL.config().contextLength(), 4, TestModel.ID, 256, slotDir), TestModel.MODEL, TestModel.TOKENIZER,
                TestModel.FORMAT);
    }

    private static HttpResponse<String> post(InferenceServer s, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(InferenceServer s, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).timeout(Duration.ofSeconds(30))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode complete(InferenceServer s, String prompt, int maxTokens) throws Exception {
        HttpResponse<String> r = post(s, "/v1/completions", JSON.createObjectNode().put("model", TestModel.ID).put("prompt", prompt)
                .put("max_tokens", maxTokens).put("temperature", 0).toString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static String file(String name) {
        return JSON.createObjectNode().put("filename", name).toString();
    }

    @Test
    void aSavedSlotRestoredOnAnotherServerSkipsThePrefillAndAnswersTheSame() throws Exception {
        JsonNode expected;
        int saved;
        try (InferenceServer a = start(dir)) {
            // max_tokens 1: the sampled token is not fed, so the kept cache holds exactly the prompt
            JsonNode first = complete(a, PROMPT, 1);
            int promptTokens = first.at("/usage/prompt_tokens").asInt();
            JsonNode slots = JSON.readTree(get(a, "/slots").body());
            assertThat(slots).hasSize(1);
            assertThat(slots.get(0).get("n_tokens").asInt()).isEqualTo(promptTokens);
            assertThat(slots.get(0).get("kv").asText()).isEqualTo(KV);
            long id = slots.get(0).get("id").asLong();

            HttpResponse<String> r = post(a, "/slots/" + id + "?action=save", file("lily.t4j"));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode s = JSON.readTree(r.body());
            saved = s.get("n_saved").asInt();
            assertThat(saved).isEqualTo(promptTokens);
            assertThat(s.get("n_written").asLong()).isEqualTo(Files.size(dir.resolve("lily.t4j")));
            assertThat(s.at("/timings/save_ms").asDouble()).isGreaterThanOrEqualTo(0);
            // compressed: far below the dense bytes of the prompt
            assertThat(s.get("n_written").asLong()).isLessThan(promptTokens * TestModel.DENSE_PER_TOKEN / 2);
            System.out.printf("slot of %d tokens (%s): %d bytes, dense would be %d; save %.1f ms%n", promptTokens, KV,
                    s.get("n_written").asLong(), promptTokens * TestModel.DENSE_PER_TOKEN, s.at("/timings/save_ms").asDouble());

            expected = complete(a, PROMPT + " and ran", 16);
            assertThat(expected.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isEqualTo(saved);
        }
        try (InferenceServer b = start(dir)) {
            HttpResponse<String> r = post(b, "/slots/0?action=restore", file("lily.t4j"));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode s = JSON.readTree(r.body());
            assertThat(s.get("n_restored").asInt()).isEqualTo(saved);
            assertThat(s.get("n_read").asLong()).isEqualTo(Files.size(dir.resolve("lily.t4j")));
            System.out.printf("restore %.1f ms%n", s.at("/timings/restore_ms").asDouble());
            JsonNode again = complete(b, PROMPT + " and ran", 16);
            assertThat(again.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isEqualTo(saved);
            assertThat(again.at("/choices/0/text").asText()).isEqualTo(expected.at("/choices/0/text").asText());
        }
    }

    @Test
    void badRequestsAreJsonErrorsAndTheServerKeepsServing() throws Exception {
        Files.writeString(dir.resolve("garbage.t4j"), "not a session at all");
        try (InferenceServer s = start(dir)) {
            complete(s, PROMPT, 1);
            long id = JSON.readTree(get(s, "/slots").body()).get(0).get("id").asLong();
            assertError(post(s, "/slots/" + id + "?action=save", file("../escape.t4j")), 400, "invalid_filename");
            assertError(post(s, "/slots/" + id + "?action=save", file("sub/dir.t4j")), 400, "invalid_filename");
            assertError(post(s, "/slots/" + id + "?action=save", file(".hidden")), 400, "invalid_filename");
            assertError(post(s, "/slots/" + id + "?action=save", file(dir.resolve("abs.t4j").toString())), 400, "invalid_filename");
            assertError(post(s, "/slots/" + id + "?action=save", "{}"), 400, "missing_filename");
            assertError(post(s, "/slots/" + id + "?action=save", "{not json"), 400, "invalid_json");
            assertError(post(s, "/slots/" + id + "?action=fly", file("x.t4j")), 400, "invalid_action");
            assertError(post(s, "/slots/" + id, file("x.t4j")), 400, "missing_action");
            assertError(post(s, "/slots/abc?action=save", file("x.t4j")), 400, "invalid_slot_id");
            assertError(post(s, "/slots/999?action=save", file("x.t4j")), 404, "slot_not_found");
            assertError(post(s, "/slots/999?action=erase", ""), 404, "slot_not_found");
            assertError(post(s, "/slots/0?action=restore", file("missing.t4j")), 404, "file_not_found");
            JsonNode garbage = assertError(post(s, "/slots/0?action=restore", file("garbage.t4j")), 400, "invalid_session_file");
            assertThat(garbage.at("/error/message").asText()).isEqualTo("session file 'garbage.t4j' is not a think4j session file");
            assertThat(Files.exists(dir.getParent().resolve("escape.t4j"))).isFalse();

            HttpResponse<String> erased = post(s, "/slots/" + id + "?action=erase", "");
            assertThat(erased.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(get(s, "/slots").body())).isEmpty();
            assertThat(get(s, "/health").statusCode()).isEqualTo(200);
            complete(s, "Once upon a time", 4);
        }
    }

    @Test
    void aSessionOfAnotherModelIsRejectedNamingIt() throws Exception {
        Path other = dev.think4j.SharedFixtures.require("models/stories260K-q8_0.gguf");
        try (Model m = Model.load(other)) {
            var cache = m.newCache(KvSpec.parse(KV));
            int[] ids = TestModel.TOKENIZER.encode("Once upon a time", true, false);
            m.newTransformer(64).forward(ids, 0, ids.length, cache, new float[m.config().vocabSize()], null);
            cache.endPrefill();
            Files.write(dir.resolve("q8.t4j"), SessionFiles.toBytes(m, cache, ids));
            cache.clear();
        }
        try (InferenceServer s = start(dir)) {
            JsonNode e = assertError(post(s, "/slots/0?action=restore", file("q8.t4j")), 400, "invalid_session_file");
            assertThat(e.at("/error/message").asText()).startsWith("session file 'q8.t4j' was saved for model llama");
        }
    }

    @Test
    void withoutASlotDirectorySavingIsNotSupported() throws Exception {
        try (InferenceServer s = start(null)) {
            assertError(post(s, "/slots/0?action=save", file("x.t4j")), 501, "not_supported");
            assertThat(get(s, "/slots").statusCode()).isEqualTo(200);
        }
    }

    private static JsonNode assertError(HttpResponse<String> r, int status, String code) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).get().asString().startsWith("application/json");
        JsonNode n = JSON.readTree(r.body());
        assertThat(n.at("/error/code").asText()).as(r.body()).isEqualTo(code);
        return n;
    }
}
