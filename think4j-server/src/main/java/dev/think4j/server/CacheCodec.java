package dev.think4j.server;

import dev.think4j.kv.CompressedKvCache;

/** Turns a sequence's cache and the ids it holds into bytes another replica can load, and back. */
interface CacheCodec {
    /** Changes whenever the byte format does, so replicas of different versions never read each other's values. */
    String version();

    /** Identifies the model's weights and shape: caches of different models must never meet. */
    String fingerprint();

    byte[] encode(int[] ids, CompressedKvCache cache);

    /**
     * @throws IllegalArgumentException when the bytes are damaged, of another version or of another
     *                                  model or kv spec
     */
    Decoded decode(byte[] bytes, String kvSpec);

    record Decoded(int[] ids, CompressedKvCache cache) {
    }
}
