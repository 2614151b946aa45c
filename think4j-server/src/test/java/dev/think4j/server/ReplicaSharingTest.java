package dev.think4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replicas sharing finished caches: a conversation started on one server continues on another, which
 * loads the cache instead of prefilling, with the greedy output a single server gives. Through a real
 * redis-server (skipped without one) and through the in-process store (always).
 */
@Timeout(180)
class ReplicaSharingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BUDGET = 1L << 26;
    private static final int MAX_TOKENS = 24;
    private static final String USER1 = "Tell me a story about a little girl named Lily who found a shiny red ball in the park "
            + "near her house, and what she did with it when her friend Tom came to play with her after lunch.";
    private static final String USER2 = "What did Tom say when he saw the ball?";
    private static final String USER3 = "And what happened the next day?";
    private static HttpClient http;

    @BeforeAll
    static void client() {
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void close() {
        http.close();
    }

    private static InferenceServer server(String spec, int prefixEntries, KvStore store) {
        return InferenceServer.start(new ServerConfig("127.0.0.1", 0, BUDGET, spec, 16, 8,
                TestModel.MODEL.config().contextLength(), prefixEntries, TestModel.ID), TestModel.MODEL, TestModel.TOKENIZER,
                TestModel.FORMAT, store);
    }

    /** A greedy chat completion of the conversation {@code turns} (user, assistant, user, ...). */
    private static JsonNode chat(InferenceServer server, List<String> turns) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("model", TestModel.ID).put("max_tokens", MAX_TOKENS).put("temperature", 0);
        ArrayNode messages = body.putArray("messages");
        for (int i = 0; i < turns.size(); i++) {
            messages.addObject().put("role", i % 2 == 0 ? "user" : "assistant").put("content", turns.get(i));
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + "/v1/chat/completions")).timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static String text(JsonNode r) {
        return r.at("/choices/0/message/content").asText();
    }

    private static int cached(JsonNode r) {
        return r.at("/usage/prompt_tokens_details/cached_tokens").asInt();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what + " within 20 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private static List<String> turns(String... t) {
        return new ArrayList<>(List.of(t));
    }

    /** Turn 1 on A, turn 2 on B, turn 3 on A again; each answer equals one server's that saw every turn. */
    private static void continuesAcrossReplicas(String spec, KvStore storeA, KvStore storeB) throws Exception {
        try (InferenceServer a = server(spec, 4, storeA); InferenceServer b = server(spec, 4, storeB);
             InferenceServer single = server(spec, 4, null); InferenceServer fresh = server(spec, 0, null)) {
            JsonNode t1 = chat(a, turns(USER1));
            assertThat(t1.at("/usage/prompt_tokens").asInt()).as("turn 1 is long enough to share").isGreaterThan(KvShare.BLOCK);
            String reply1 = text(t1);
            assertThat(text(chat(single, turns(USER1)))).isEqualTo(reply1);
            await(() -> a.metrics().kvStoreStores() == 1, "A stores its finished cache");
            assertThat(a.metrics().kvStoreWrittenBytes()).isPositive();
            assertThat(a.metrics().kvStoreMisses()).as("nothing was stored before turn 1").isEqualTo(1);

            List<String> two = turns(USER1, reply1, USER2);
            JsonNode onB = chat(b, two);
            JsonNode onSingle = chat(single, two);
            assertThat(b.metrics().kvStoreHits()).as("B loads A's cache").isEqualTo(1);
            assertThat(b.metrics().kvStoreReadBytes()).isGreaterThan(a.metrics().kvStoreWrittenBytes() / 2);
            assertThat(cached(onB)).as("B reused what the single server reused from its own prefix cache")
                    .isEqualTo(cached(onSingle)).isGreaterThan(t1.at("/usage/prompt_tokens").asInt());
            assertThat(b.metrics().prefillTokens()).as("B prefilled only the new tokens")
                    .isEqualTo(onB.at("/usage/prompt_tokens").asLong() - cached(onB));
            assertThat(text(onB)).as("greedy turn 2 on B equals the single server's").isEqualTo(text(onSingle));
            if (spec.equals("full")) {
                // a dense cache holds exactly what a prefill computes, so even a server without reuse agrees
                assertThat(text(chat(fresh, two))).isEqualTo(text(onB));
            }
            await(() -> b.metrics().kvStoreStores() == 1, "B stores its finished cache");

            // A still holds turn 1 itself, but B's longer turn-2 cache in the store wins
            List<String> three = turns(USER1, reply1, USER2, text(onB), USER3);
            JsonNode onA = chat(a, three);
            JsonNode onSingle3 = chat(single, three);
            assertThat(a.metrics().kvStoreHits()).isEqualTo(1);
            assertThat(cached(onA)).isEqualTo(cached(onSingle3)).isGreaterThan(cached(onB));
            assertThat(text(onA)).isEqualTo(text(onSingle3));
            assertThat(a.metrics().kvStoreErrors() + b.metrics().kvStoreErrors()).isZero();
            String metrics = a.metrics().prometheus();
            assertThat(metrics).contains("think4j_kv_store_hits_total 1", "think4j_kv_store_stores_total",
                    "think4j_kv_store_read_bytes_total", "think4j_kv_store_written_bytes_total", "think4j_kv_store_load_seconds_total",
                    "think4j_kv_store_store_seconds_total", "think4j_kv_store_errors_total 0");
            assertThat(single.metrics().prometheus()).doesNotContain("think4j_kv_store_");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"full", "think:0.5+kivi:2"})
    void aConversationContinuesOnAnotherReplicaThroughRedis(String spec) throws Exception {
        try (RedisFixture redis = RedisFixture.start()) {
            continuesAcrossReplicas(spec, KvStores.open(redis.uri()), KvStores.open(redis.uri()));
        }
    }

    @Test
    void aConversationContinuesOnAnotherReplicaThroughTheInProcessStore() throws Exception {
        MemoryKvStore shared = new MemoryKvStore(1L << 28);
        continuesAcrossReplicas("think:0.5", new Unclosed(shared), new Unclosed(shared));
        shared.close();
    }

    @Test
    void differentKvSpecsNeverShareACache() throws Exception {
        MemoryKvStore shared = new MemoryKvStore(1L << 28);
        try (InferenceServer a = server("think:0.5", 4, new Unclosed(shared)); InferenceServer b = server("full", 4, new Unclosed(shared))) {
            String reply1 = text(chat(a, turns(USER1)));
            await(() -> a.metrics().kvStoreStores() == 1, "A stores its finished cache");
            JsonNode onB = chat(b, turns(USER1, reply1, USER2));
            assertThat(b.metrics().kvStoreHits()).isZero();
            assertThat(b.metrics().kvStoreMisses()).isEqualTo(1);
            assertThat(cached(onB)).isZero();
        }
        shared.close();
    }

    @Test
    void aDamagedStoredCacheIsAnErrorAndTheRequestIsPrefilled() throws Exception {
        MemoryKvStore shared = new MemoryKvStore(1L << 28);
        KvStore damaging = new Unclosed(shared) {
            @Override
            public byte[] get(String key) {
                byte[] v = super.get(key);
                if (v != null && key.startsWith("think4j:kv:")) {
                    v[v.length / 2] ^= 0x5A; // one flipped byte in the middle of the cache
                }
                return v;
            }
        };
        try (InferenceServer a = server("full", 4, new Unclosed(shared)); InferenceServer b = server("full", 4, damaging);
             InferenceServer fresh = server("full", 0, null)) {
            String reply1 = text(chat(a, turns(USER1)));
            await(() -> a.metrics().kvStoreStores() == 1, "A stores its finished cache");
            List<String> two = turns(USER1, reply1, USER2);
            JsonNode onB = chat(b, two);
            assertThat(b.metrics().kvStoreHits()).isZero();
            assertThat(b.metrics().kvStoreErrors()).isEqualTo(1);
            assertThat(b.metrics().kvStoreMisses()).isEqualTo(1);
            assertThat(cached(onB)).isZero();
            assertThat(text(onB)).isEqualTo(text(chat(fresh, two)));
        }
        shared.close();
    }

    @Test
    void aStoreThatGoesDownOnlyCostsPrefills() throws Exception {
        try (RedisFixture redis = RedisFixture.start();
             InferenceServer a = server("full", 0, KvStores.open(redis.uri()));
             InferenceServer fresh = server("full", 0, null)) {
            String reply1 = text(chat(a, turns(USER1)));
            await(() -> a.metrics().kvStoreStores() == 1, "A stores its finished cache");
            redis.stop();
            List<String> two = turns(USER1, reply1, USER2);
            JsonNode down = chat(a, two);
            assertThat(text(down)).as("served by prefilling").isEqualTo(text(chat(fresh, two)));
            assertThat(cached(down)).isZero();
            assertThat(a.metrics().kvStoreHits()).isZero();
            await(() -> a.metrics().kvStoreErrors() >= 2, "the failed lookup and the failed store are counted");
            assertThat(a.metrics().kvStoreMisses()).isEqualTo(2);
            assertThat(a.metrics().sequenceFailures()).isZero();
            assertThat(a.metrics().requests(200)).isEqualTo(2);

            // back up (empty, since it kept nothing on disk): the next finished turn is stored again
            redis.launch();
            Thread.sleep(RedisKvStore.RETRY_AFTER.toMillis() + 100);
            long stores = a.metrics().kvStoreStores();
            chat(a, turns(USER1, reply1, USER3));
            await(() -> a.metrics().kvStoreStores() == stores + 1, "stores resume once the store is back");
        }
    }

    private static HttpResponse<String> http(InferenceServer server, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(60));
        b = method.equals("GET") ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aSessionSavedOnOneReplicaIsRestoredOnAnotherThroughRedis() throws Exception {
        try (RedisFixture redis = RedisFixture.start();
             InferenceServer a = server("think:0.5", 4, KvStores.open(redis.uri()));
             InferenceServer b = server("think:0.5", 4, KvStores.open(redis.uri()))) {
            String reply1 = text(chat(a, turns(USER1)));
            JsonNode slots = JSON.readTree(http(a, "GET", "/slots", null).body());
            assertThat(slots).hasSize(1);
            long id = slots.get(0).get("id").asLong();
            HttpResponse<String> saved = http(a, "POST", "/slots/" + id + "?action=save", "{\"filename\": \"lily\"}");
            assertThat(saved.statusCode()).as(saved.body()).isEqualTo(200);
            int tokens = JSON.readTree(saved.body()).get("n_saved").asInt();

            HttpResponse<String> restored = http(b, "POST", "/slots/0?action=restore", "{\"filename\": \"lily\"}");
            assertThat(restored.statusCode()).as(restored.body()).isEqualTo(200);
            assertThat(JSON.readTree(restored.body()).get("n_restored").asInt()).isEqualTo(tokens);
            JsonNode onB = JSON.readTree(http(b, "GET", "/slots", null).body());
            assertThat(onB).hasSize(1);
            assertThat(onB.get(0).get("n_tokens").asInt()).isEqualTo(tokens);

            HttpResponse<String> missing = http(b, "POST", "/slots/0?action=restore", "{\"filename\": \"tom\"}");
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.body()).contains("no session 'tom' of this model in the kv store");
            redis.stop();
            HttpResponse<String> down = http(a, "POST", "/slots/" + id + "?action=save", "{\"filename\": \"lily2\"}");
            assertThat(down.statusCode()).isEqualTo(503);
            assertThat(down.body()).contains("could not save lily2 in the kv store");
        }
    }

    @Test
    void anUnreachableStoreFailsTheStartInOneLine() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        ServerConfig config = new ServerConfig("127.0.0.1", 0, BUDGET, "full", 16, 8, TestModel.MODEL.config().contextLength(), 4,
                TestModel.ID).withKvStore("redis://127.0.0.1:" + closed, Duration.ofMinutes(5));
        assertThatThrownBy(() -> InferenceServer.start(config, TestModel.MODEL, TestModel.TOKENIZER, TestModel.FORMAT))
                .isInstanceOf(Think4jException.class)
                .hasMessageStartingWith("--kv-store redis://127.0.0.1:" + closed + "/0 is unreachable")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    /** Shares one store between servers that each close theirs. */
    private static class Unclosed implements KvStore {
        private final KvStore store;

        Unclosed(KvStore store) {
            this.store = store;
        }

        @Override
        public byte[] get(String key) {
            return store.get(key);
        }

        @Override
        public List<byte[]> getAll(List<String> keys) {
            List<byte[]> values = new ArrayList<>();
            for (String k : keys) {
                values.add(get(k));
            }
            return values;
        }

        @Override
        public void put(String key, byte[] value, Duration ttl) {
            store.put(key, value, ttl);
        }

        @Override
        public boolean contains(String key) {
            return store.contains(key);
        }

        @Override
        public void delete(String key) {
            store.delete(key);
        }

        @Override
        public String describe() {
            return store.describe();
        }

        @Override
        public void close() {
            // the test closes the shared store
        }
    }
}
