package dev.think4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The RESP2 client against a real redis-server (skipped without one), and its URI parsing (always). */
@Timeout(60)
class RedisKvStoreTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Duration HOUR = Duration.ofHours(1);

    private static RedisKvStore connect(String uri) {
        return RedisKvStore.connect(RedisKvStore.parse(uri), TIMEOUT, TIMEOUT);
    }

    @Test
    void storesBinaryValuesOfAnySizeAndReadsThemBack() throws Exception {
        try (RedisFixture redis = RedisFixture.start(); RedisKvStore store = connect(redis.uri())) {
            byte[] big = new byte[3 << 20];
            new Random(7).nextBytes(big);
            byte[] tricky = "a\r\nb$-1\r\n*2\r\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            store.put("big", big, HOUR);
            store.put("tricky", tricky, HOUR);
            store.put("empty", new byte[0], HOUR);
            assertThat(store.get("big")).isEqualTo(big);
            assertThat(store.get("tricky")).isEqualTo(tricky);
            assertThat(store.get("empty")).isEmpty();
            assertThat(store.get("absent")).isNull();
            assertThat(store.contains("big")).isTrue();
            assertThat(store.contains("absent")).isFalse();
            List<byte[]> all = store.getAll(List.of("tricky", "absent", "empty"));
            assertThat(all.get(0)).isEqualTo(tricky);
            assertThat(all.get(1)).isNull();
            assertThat(all.get(2)).isEmpty();
            assertThat(store.getAll(List.of())).isEmpty();
            store.delete("big");
            assertThat(store.get("big")).isNull();
            store.put("tricky", big, HOUR);
            assertThat(store.get("tricky")).as("put replaces").isEqualTo(big);
        }
    }

    @Test
    void concurrentCallersEachGetTheirOwnAnswer() throws Exception {
        try (RedisFixture redis = RedisFixture.start(); RedisKvStore store = connect(redis.uri())) {
            List<Thread> threads = new java.util.ArrayList<>();
            java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
            for (int t = 0; t < 12; t++) {
                int id = t;
                threads.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 50; i++) {
                        byte[] v = new byte[1000 + id * 37 + i];
                        Arrays.fill(v, (byte) id);
                        store.put("k" + id, v, HOUR);
                        if (!Arrays.equals(store.get("k" + id), v)) {
                            wrong.incrementAndGet();
                        }
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(wrong.get()).isZero();
        }
    }

    @Test
    void valuesExpireAfterTheirTtl() throws Exception {
        try (RedisFixture redis = RedisFixture.start(); RedisKvStore store = connect(redis.uri())) {
            store.put("short", new byte[] {1}, Duration.ofMillis(150));
            store.put("long", new byte[] {2}, HOUR);
            assertThat(store.get("short")).containsExactly(1);
            Thread.sleep(400);
            assertThat(store.get("short")).isNull();
            assertThat(store.get("long")).containsExactly(2);
        }
    }

    @Test
    void theDatabaseNumberSeparatesKeys() throws Exception {
        try (RedisFixture redis = RedisFixture.start(); RedisKvStore db0 = connect(redis.uri());
             RedisKvStore db3 = connect("valkey://127.0.0.1:" + redis.port() + "/3")) {
            db3.put("k", new byte[] {3}, HOUR);
            assertThat(db3.get("k")).containsExactly(3);
            assertThat(db0.get("k")).isNull();
            assertThat(db3.describe()).isEqualTo("valkey://127.0.0.1:" + redis.port() + "/3");
        }
    }

    @Test
    void aPasswordIsSentAndAWrongOneIsOneClearError() throws Exception {
        try (RedisFixture redis = RedisFixture.start("s3cret")) {
            try (RedisKvStore store = connect("redis://:s3cret@127.0.0.1:" + redis.port())) {
                store.put("k", new byte[] {1}, HOUR);
                assertThat(store.get("k")).containsExactly(1);
                assertThat(store.describe()).doesNotContain("s3cret");
            }
            assertThatThrownBy(() -> connect("redis://:hunter2x@127.0.0.1:" + redis.port()))
                    .isInstanceOf(KvStore.KvStoreException.class).hasMessageContaining("refused the credentials")
                    .hasMessageNotContaining("hunter2x");
            assertThatThrownBy(() -> connect(redis.uri())).isInstanceOf(KvStore.KvStoreException.class)
                    .hasMessageContaining("NOAUTH");
        }
    }

    @Test
    void aStoreThatGoesDownFailsFastAndComesBack() throws Exception {
        try (RedisFixture redis = RedisFixture.start(); RedisKvStore store = connect(redis.uri())) {
            store.put("k", new byte[] {1}, HOUR);
            redis.stop();
            assertThatThrownBy(() -> store.get("k")).isInstanceOf(KvStore.KvStoreException.class);
            // the broken pooled connection is gone; a new one cannot connect, and the next calls do not even try
            assertThatThrownBy(() -> store.get("k")).isInstanceOf(KvStore.KvStoreException.class)
                    .hasMessageContaining("unreachable");
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> store.put("k", new byte[] {2}, HOUR)).hasMessageContaining("next try within");
            assertThat(System.nanoTime() - t0).as("fails fast while known down").isLessThan(200_000_000L);
            redis.launch();
            Thread.sleep(RedisKvStore.RETRY_AFTER.toMillis() + 100);
            store.put("k", new byte[] {3}, HOUR);
            assertThat(store.get("k")).containsExactly(3);
        }
    }

    @Test
    void anUnreachableStoreFailsToConnectWithOneLine() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> connect("redis://127.0.0.1:" + port))
                .isInstanceOf(KvStore.KvStoreException.class)
                .hasMessageContaining("redis://127.0.0.1:" + port + "/0 is unreachable")
                .hasMessageContaining("Connection refused")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void aPortThatIsNotRedisIsNamedAsSuch() throws Exception {
        try (java.net.ServerSocket fake = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> {
                try (java.net.Socket s = fake.accept()) {
                    s.getInputStream().read(new byte[64]);
                    s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                } catch (java.io.IOException ignored) {
                    // the client hung up
                }
            });
            assertThatThrownBy(() -> connect("redis://127.0.0.1:" + fake.getLocalPort()))
                    .isInstanceOf(KvStore.KvStoreException.class).hasMessageContaining("Redis or Valkey");
            server.join();
        }
    }

    @Test
    void parsesRedisAndValkeyUris() {
        assertThat(RedisKvStore.parse("redis://localhost")).isEqualTo(
                new RedisKvStore.Address("redis", "localhost", 6379, 0, null, null));
        assertThat(RedisKvStore.parse("valkey://10.0.0.5:6380/2")).isEqualTo(
                new RedisKvStore.Address("valkey", "10.0.0.5", 6380, 2, null, null));
        assertThat(RedisKvStore.parse("redis://:p%40ss@h:1")).isEqualTo(new RedisKvStore.Address("redis", "h", 1, 0, null, "p@ss"));
        assertThat(RedisKvStore.parse("redis://alice:pw@h:1/0")).isEqualTo(new RedisKvStore.Address("redis", "h", 1, 0, "alice", "pw"));
        assertThat(RedisKvStore.parse("redis://pw@h")).isEqualTo(new RedisKvStore.Address("redis", "h", 6379, 0, null, "pw"));
        assertThat(RedisKvStore.parse("redis://[::1]:7000").toString()).isEqualTo("redis://[::1]:7000/0");
        assertThatThrownBy(() -> RedisKvStore.parse("http://h:1")).hasMessageContaining("unknown scheme");
        assertThatThrownBy(() -> RedisKvStore.parse("rediss://h:1")).hasMessageContaining("TLS");
        assertThatThrownBy(() -> RedisKvStore.parse("redis://h:1/x")).hasMessageContaining("database number");
        assertThatThrownBy(() -> RedisKvStore.parse("redis:///0")).hasMessageContaining("no host");
        assertThatThrownBy(() -> RedisKvStore.parse("redis://h:1?x=1")).hasMessageContaining("no ?query");
        assertThatThrownBy(() -> RedisKvStore.parse("not a uri")).hasMessageContaining("not a URI");
    }

    @Test
    void theMemoryStoreEvictsTheLeastRecentlyUsedBeyondItsBytesAndHonoursTtl() throws Exception {
        try (MemoryKvStore m = new MemoryKvStore(100)) {
            m.put("a", new byte[40], HOUR);
            m.put("b", new byte[40], HOUR);
            assertThat(m.get("a")).hasSize(40); // a is now the most recently used
            m.put("c", new byte[40], HOUR);
            assertThat(m.contains("b")).isFalse();
            assertThat(m.contains("a")).isTrue();
            assertThat(m.bytes()).isEqualTo(80);
            m.put("huge", new byte[101], HOUR);
            assertThat(m.get("huge")).isNull();
            m.put("short", new byte[1], Duration.ofMillis(50));
            Thread.sleep(120);
            assertThat(m.get("short")).isNull();
            assertThat(m.getAll(List.of("a", "zz"))).satisfies(l -> {
                assertThat(l.get(0)).hasSize(40);
                assertThat(l.get(1)).isNull();
            });
        }
    }
}
