package dev.think4j.kv;

import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * One KV compression method. Presses compose in a fixed stage order (evict, prune channels,
 * quantize); at a compression point each sees one (layer, KV head) at a time, what was observed
 * there and the plan so far, and returns the plan narrowed. What a head does between decoded tokens
 * is part of the plan ({@link DecodeRule}); a press never touches a cache.
 */
public interface KvPress {
    enum Stage { EVICT, PRUNE, QUANTIZE }

    Stage stage();

    /** The spec string that recreates this press (e.g. {@code think:0.5}). */
    String spec();

    /** Observation-window length this press needs at compression time (0 when it needs none). */
    default int window() {
        return 0;
    }

    /** True when the press drops tokens during decode (needs a store format that drops tokens). */
    default boolean evictsDuringDecode() {
        return false;
    }

    /** How this press stores compressed tokens, when it decides that (the quantizers). */
    default Optional<StoreFormat<?, ?>> format() {
        return Optional.empty();
    }

    /** Checks settings that depend on the model (e.g. one ratio per layer) before anything runs. */
    default void validate(int layers) {
    }

    /** End of prefill: the plan for one head, narrowed from {@code plan}. */
    HeadPlan compress(HeadObservation head, HeadPlan plan);

    /**
     * Every head at a compression point, as the presses before this one leave it: for presses whose
     * decision for one head depends on the others (a budget shared by the whole model).
     */
    interface Heads {
        KvShape shape();

        /** f applied to every (layer, KV head), in layer-major order. */
        <R> List<R> map(BiFunction<HeadObservation, HeadPlan, R> f);
    }

    /** Called before each compression point; returns the press to use for it (by default this one). */
    default KvPress prepare(Heads heads) {
        return this;
    }
}
