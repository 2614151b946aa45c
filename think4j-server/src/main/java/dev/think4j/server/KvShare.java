package dev.think4j.server;

import dev.think4j.kv.CompressedKvCache;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finished caches shared between replicas through a {@link KvStore}, so that a follow-up turn that
 * lands on another server loads the compressed cache instead of prefilling the conversation again.
 *
 * <p>Keys: every key starts with a namespace hashed from the codec version, the model fingerprint,
 * the kv spec and the context length, so replicas of the same model and settings share and nothing
 * else ever collides. A finished sequence's cache is stored whole under the hash of the exact ids it
 * holds ({@code think4j:kv:NS:H}); compressed caches cannot be cut at an arbitrary length, so the
 * only reusable prefixes are those exact id lists. To find them without scanning, each is also listed
 * in a small index under the hash of its ids up to the last multiple of {@link #BLOCK}
 * ({@code think4j:ix:NS:H}). A lookup hashes the prompt at every multiple of BLOCK, reads those
 * indexes in one MGET, keeps the entries whose full hash matches the prompt, and loads the longest;
 * the loaded ids are compared with the prompt, so even a hash collision only costs a miss.
 *
 * <p>Lookups run on the request's thread, stores are encoded on the scheduler thread (the cache is
 * about to be reused or freed) and written by one background thread; a store that fails or is down
 * only counts errors and misses, and the request is prefilled as without a store.
 */
final class KvShare implements AutoCloseable {
    /** Prefixes shorter than this are not worth a round trip, and index anchors fall on its multiples. */
    static final int BLOCK = 32;
    /** Stored lengths listed per index; the oldest leave first. */
    static final int INDEX_CAPACITY = 64;
    /** Candidates whose value turned out missing or damaged before a lookup gives up. */
    private static final int MAX_LOADS = 3;
    /** Encoded bytes waiting for the writer beyond which new stores are skipped rather than queued. */
    private static final long MAX_PENDING_BYTES = 512L << 20;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
    private static final long WARN_EVERY_NANOS = 30_000_000_000L;
    private static final byte[] INDEX_MAGIC = "T4IX".getBytes(StandardCharsets.US_ASCII);
    private static final int HASH_BYTES = 16;
    private static final Logger LOG = LoggerFactory.getLogger(KvShare.class);

    /** A cache loaded from the store for a request, not yet charged to the budget. */
    record Restored(int[] ids, CompressedKvCache cache) {
    }

    private record Write(String spec, int[] ids, String key, byte[] payload, long encodeNanos) {
    }

    private final KvStore store;
    private final CacheCodec codec;
    private final Metrics metrics;
    private final Duration ttl;
    private final int contextLength;
    private final Map<String, String> namespaces = new ConcurrentHashMap<>();
    /** Payload keys of the caches this server's own prefix cache holds: no need to load those. */
    private final Set<String> heldLocally = ConcurrentHashMap.newKeySet();
    private final LinkedBlockingQueue<Write> writes = new LinkedBlockingQueue<>();
    private final AtomicLong pendingBytes = new AtomicLong();
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
    private final Thread writer;
    private volatile boolean closing;

    KvShare(KvStore store, CacheCodec codec, Metrics metrics, Duration ttl, int contextLength) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("the kv store TTL must be positive");
        }
        this.store = store;
        this.codec = codec;
        this.metrics = metrics;
        this.ttl = ttl;
        this.contextLength = contextLength;
        metrics.kvStoreEnabled(store.describe());
        this.writer = Thread.ofPlatform().name("think4j-kv-store-writer").daemon(true).unstarted(this::writeLoop);
        writer.start();
    }

    KvStore store() {
        return store;
    }

    /** Keys of caches held in this server's prefix cache (the scheduler adds and removes them). */
    Set<String> heldLocally() {
        return heldLocally;
    }

    /**
     * The longest stored prefix of {@code prompt} (strictly shorter, at least {@link #BLOCK} tokens),
     * decoded; null on a miss, on any store failure, or when this server's own prefix cache holds it.
     * Never throws.
     */
    Restored lookup(String spec, int[] prompt) {
        if (prompt.length <= BLOCK) {
            return null;
        }
        long t0 = System.nanoTime();
        try {
            return find(spec, prompt);
        } catch (KvStore.KvStoreException e) {
            metrics.kvStoreError();
            metrics.kvStoreMiss();
            warn("kv store lookup failed, prefilling instead", e);
            return null;
        } catch (RuntimeException e) {
            metrics.kvStoreError();
            metrics.kvStoreMiss();
            warn("kv store lookup failed unexpectedly, prefilling instead", e);
            return null;
        } finally {
            metrics.kvStoreLoadNanos(System.nanoTime() - t0);
        }
    }

    private Restored find(String spec, int[] prompt) {
        String ns = namespace(spec);
        int maxLength = prompt.length - 1;
        MessageDigest md = sha256();
        List<String> indexKeys = new ArrayList<>();
        for (int i = 0; i < maxLength; i++) {
            feed(md, prompt[i]);
            if ((i + 1) % BLOCK == 0) {
                indexKeys.add(indexKey(ns, digest(md)));
            }
        }
        List<byte[]> indexes = store.getAll(indexKeys);
        // stored length -> hashes stored at that length (usually one)
        TreeMap<Integer, List<byte[]>> candidates = new TreeMap<>();
        for (byte[] index : indexes) {
            if (index == null) {
                continue;
            }
            metrics.kvStoreRead(index.length);
            for (IndexEntry e : parseIndex(index)) {
                if (e.length() >= BLOCK && e.length() <= maxLength) {
                    candidates.computeIfAbsent(e.length(), k -> new ArrayList<>()).add(e.hash());
                }
            }
        }
        if (candidates.isEmpty()) {
            metrics.kvStoreMiss();
            return null;
        }
        // the prompt's own hash at each candidate length, longest first
        List<String> matching = new ArrayList<>();
        md.reset();
        int fed = 0;
        List<Integer> lengths = new ArrayList<>(candidates.keySet());
        byte[][] hashes = new byte[lengths.size()][];
        for (int c = 0; c < lengths.size(); c++) {
            int length = lengths.get(c);
            for (; fed < length; fed++) {
                feed(md, prompt[fed]);
            }
            hashes[c] = digest(md);
        }
        for (int c = lengths.size() - 1; c >= 0; c--) {
            for (byte[] h : candidates.get(lengths.get(c))) {
                if (Arrays.equals(h, hashes[c])) {
                    matching.add(payloadKey(ns, hashes[c]));
                    break;
                }
            }
        }
        int loads = 0;
        for (String key : matching) {
            if (heldLocally.contains(key)) {
                return null; // the scheduler will take it from its own prefix cache
            }
            if (loads++ == MAX_LOADS) {
                break;
            }
            byte[] payload = store.get(key);
            if (payload == null) {
                continue; // expired or evicted since its index entry was written
            }
            metrics.kvStoreRead(payload.length);
            CacheCodec.Decoded d;
            try {
                d = codec.decode(payload, spec);
            } catch (IllegalArgumentException e) {
                metrics.kvStoreError();
                warn("a stored cache could not be loaded (" + key + ")", e);
                continue;
            }
            int n = d.ids().length;
            if (n < BLOCK || n > maxLength || !Arrays.equals(d.ids(), 0, n, prompt, 0, n)) {
                d.cache().clear();
                metrics.kvStoreError();
                warn("a stored cache holds other tokens than its key says (" + key + ")", null);
                continue;
            }
            return new Restored(d.ids(), d.cache());
        }
        metrics.kvStoreMiss();
        return null;
    }

    /**
     * Encodes a finished cache (scheduler thread: the cache is about to be reused or freed) and queues
     * it for the writer. Returns its payload key, or null when {@code ids} are too short to be shared.
     */
    String offer(String spec, int[] ids, CompressedKvCache cache) {
        if (closing || ids.length < BLOCK) {
            return null;
        }
        String key = payloadKey(namespace(spec), hash(ids, ids.length));
        if (pendingBytes.get() > MAX_PENDING_BYTES) {
            metrics.kvStoreSkip();
            return key;
        }
        long t0 = System.nanoTime();
        byte[] payload = codec.encode(ids, cache);
        long encode = System.nanoTime() - t0;
        if (payload.length > RedisKvStore.MAX_VALUE_BYTES) {
            metrics.kvStoreSkip();
            return key;
        }
        pendingBytes.addAndGet(payload.length);
        writes.add(new Write(spec, ids, key, payload, encode));
        return key;
    }

    /** Payload key of the cache holding exactly {@code ids} under {@code spec}. */
    String key(String spec, int[] ids) {
        return payloadKey(namespace(spec), hash(ids, ids.length));
    }

    private void writeLoop() {
        while (true) {
            Write w;
            try {
                w = writes.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (w == null) {
                if (closing) {
                    return;
                }
                continue;
            }
            long t0 = System.nanoTime();
            try {
                store.put(w.key(), w.payload(), ttl);
                long written = w.payload().length + addToIndex(w);
                metrics.kvStoreWritten(written);
                metrics.kvStoreStored();
            } catch (RuntimeException e) {
                metrics.kvStoreError();
                warn("could not store a finished cache in the kv store", e);
            } finally {
                pendingBytes.addAndGet(-w.payload().length);
                metrics.kvStoreStoreNanos(w.encodeNanos() + System.nanoTime() - t0);
            }
        }
    }

    /** Lists the stored length under its anchor (read, add, write: two replicas racing lose an entry, i.e. a miss). */
    private long addToIndex(Write w) {
        int length = w.ids().length;
        int anchor = length / BLOCK * BLOCK;
        String ns = namespace(w.spec());
        String key = indexKey(ns, hash(w.ids(), anchor));
        byte[] hash = hash(w.ids(), length);
        byte[] old = store.get(key);
        List<IndexEntry> entries = new ArrayList<>(old == null ? List.of() : parseIndex(old));
        entries.removeIf(e -> e.length() == length && Arrays.equals(e.hash(), hash));
        entries.add(new IndexEntry(length, hash));
        while (entries.size() > INDEX_CAPACITY) {
            entries.removeFirst();
        }
        byte[] index = writeIndex(entries);
        store.put(key, index, ttl);
        return index.length;
    }

    record IndexEntry(int length, byte[] hash) {
    }

    static byte[] writeIndex(List<IndexEntry> entries) {
        ByteBuffer b = ByteBuffer.allocate(INDEX_MAGIC.length + 4 + entries.size() * (4 + HASH_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(INDEX_MAGIC).putInt(entries.size());
        for (IndexEntry e : entries) {
            b.putInt(e.length()).put(e.hash());
        }
        return b.array();
    }

    /** The entries of an index value; a damaged one reads as empty (it is rewritten by the next store). */
    static List<IndexEntry> parseIndex(byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        if (value.length < INDEX_MAGIC.length + 4 || !Arrays.equals(value, 0, INDEX_MAGIC.length, INDEX_MAGIC, 0, INDEX_MAGIC.length)) {
            return List.of();
        }
        b.position(INDEX_MAGIC.length);
        int n = b.getInt();
        if (n < 0 || n > INDEX_CAPACITY || b.remaining() != n * (4 + HASH_BYTES)) {
            return List.of();
        }
        List<IndexEntry> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int length = b.getInt();
            byte[] h = new byte[HASH_BYTES];
            b.get(h);
            entries.add(new IndexEntry(length, h));
        }
        return entries;
    }

    private String namespace(String spec) {
        return namespaces.computeIfAbsent(spec, s -> {
            MessageDigest md = sha256();
            md.update(("think4j-kv-share\n" + codec.version() + "\n" + codec.fingerprint() + "\n" + s + "\n" + contextLength)
                    .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest(), 0, 12);
        });
    }

    private static String payloadKey(String ns, byte[] hash) {
        return "think4j:kv:" + ns + ":" + HexFormat.of().formatHex(hash);
    }

    private static String indexKey(String ns, byte[] hash) {
        return "think4j:ix:" + ns + ":" + HexFormat.of().formatHex(hash);
    }

    static byte[] hash(int[] ids, int length) {
        MessageDigest md = sha256();
        for (int i = 0; i < length; i++) {
            feed(md, ids[i]);
        }
        return Arrays.copyOf(md.digest(), HASH_BYTES);
    }

    private static void feed(MessageDigest md, int id) {
        md.update((byte) id);
        md.update((byte) (id >>> 8));
        md.update((byte) (id >>> 16));
        md.update((byte) (id >>> 24));
    }

    /** The digest so far, leaving {@code md} to go on. */
    private static byte[] digest(MessageDigest md) {
        try {
            return Arrays.copyOf(((MessageDigest) md.clone()).digest(), HASH_BYTES);
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 cannot be cloned on this JDK", e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 on this JDK", e);
        }
    }

    private void warn(String what, Throwable e) {
        long now = System.nanoTime();
        long last = lastWarning.get();
        // a store that is down would otherwise log once per request
        if (now - last >= WARN_EVERY_NANOS && lastWarning.compareAndSet(last, now)) {
            LOG.warn("{} ({}): {} (further kv store warnings within 30 s are only counted in /metrics)", what,
                    store.describe(), e == null ? "" : e.getMessage());
        }
    }

    /** Writes what is queued (up to a few seconds, so a rolling restart keeps its last turns), then stops. */
    @Override
    public void close() {
        closing = true;
        try {
            writer.join(CLOSE_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.interrupt();
        heldLocally.clear();
    }
}
