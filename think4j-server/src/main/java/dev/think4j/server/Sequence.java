package dev.think4j.server;

import dev.think4j.generate.TokenStepper;
import dev.think4j.kv.CompressedKvCache;
import java.util.Arrays;

/** A running sequence: its cache, the ids the cache holds, and its decode state. Scheduler thread only. */
final class Sequence {
    final SequenceHandle handle;
    final CompressedKvCache cache;
    final TokenStepper stepper;
    final float[] logits;
    final int reusedPrefix;
    /** Ids fed to the cache, in order (prompt, then every decoded token that went through the model). */
    int[] fed;
    int fedLength;
    /** Bytes this sequence holds in the budget. */
    long reservation;
    /** Token sampled this step, to be fed in the batch. */
    int pending;
    /** Prompt tokens in the cache so far; prefill is done when it reaches the prompt length. */
    int prefilled;

    Sequence(SequenceHandle handle, CompressedKvCache cache, int[] cachedIds, TokenStepper stepper, int vocab, long reservation) {
        this.handle = handle;
        this.cache = cache;
        this.stepper = stepper;
        this.logits = new float[vocab];
        this.reusedPrefix = cachedIds.length;
        this.fed = Arrays.copyOf(cachedIds, Math.max(16, cachedIds.length + handle.request().promptIds().length
                + handle.request().maxTokens()));
        this.fedLength = cachedIds.length;
        this.prefilled = cachedIds.length;
        this.reservation = reservation;
    }

    GenerationRequest request() {
        return handle.request();
    }

    void recordFed(int[] ids, int from, int n) {
        if (fedLength + n > fed.length) {
            fed = Arrays.copyOf(fed, Math.max(fed.length * 2, fedLength + n));
        }
        System.arraycopy(ids, from, fed, fedLength, n);
        fedLength += n;
    }

    int[] fedIds() {
        return Arrays.copyOf(fed, fedLength);
    }
}
