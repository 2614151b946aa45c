package dev.think4j.kv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

/**
 * What to do with one (layer, KV head) at a compression point: an immutable value that each press
 * of a policy receives and returns narrowed (evict, then prune, then quantize).
 * <ul>
 *   <li>{@code keptTokens}: indices into the observation's tokens, increasing (eviction narrows it);</li>
 *   <li>{@code fullWidthTail}: how many of the last kept tokens stay dense and full width, present once
 *       a press asked for compressed storage (absent: nothing is compressed, every kept token stays in
 *       the dense tail);</li>
 *   <li>{@code keyChannels}/{@code valueChannels}: channels the compressed tokens keep (null = all);
 *       {@code keyScores} are the scores the key channels were ranked by (null when no press ranked
 *       them), for reports;</li>
 *   <li>{@code format}: how compressed tokens are stored; {@code encodedLimit}, when present, stores
 *       only that many compressed tokens in {@code format} and the rest as narrowed floats (KIVI's
 *       full-precision residual inside ThinK's pruned range);</li>
 *   <li>{@code rules}: what the head does during decode (flushing, eviction), one per press that asks.</li>
 * </ul>
 * Arrays handed in are owned by the plan from then on and never written.
 */
public record HeadPlan(int[] keptTokens, OptionalInt fullWidthTail, int[] keyChannels, double[] keyScores,
                       int[] valueChannels, StoreFormat<?, ?> format, OptionalInt encodedLimit, List<DecodeRule> rules) {

    public HeadPlan {
        for (int i = 1; i < keptTokens.length; i++) {
            if (keptTokens[i] <= keptTokens[i - 1]) {
                throw new IllegalArgumentException("kept tokens must be strictly increasing");
            }
        }
        rules = List.copyOf(rules);
    }

    /** Keep everything as it is: all {@code tokens} candidates, dense, full width. */
    public static HeadPlan keepAll(int tokens) {
        int[] all = new int[tokens];
        Arrays.setAll(all, i -> i);
        return new HeadPlan(all, OptionalInt.empty(), null, null, null, StoreFormat.FLOAT, OptionalInt.empty(), List.of());
    }

    public HeadPlan withKeptTokens(int[] kept) {
        return new HeadPlan(kept, fullWidthTail, keyChannels, keyScores, valueChannels, format, encodedLimit, rules);
    }

    /** The last {@code n} kept tokens must stay dense and full width (the largest request wins). */
    public HeadPlan requireFullWidthTail(int n) {
        int tail = Math.min(n, keptTokens.length);
        if (fullWidthTail.isPresent()) {
            tail = Math.max(fullWidthTail.getAsInt(), tail);
        }
        return new HeadPlan(keptTokens, OptionalInt.of(tail), keyChannels, keyScores, valueChannels, format, encodedLimit, rules);
    }

    public HeadPlan withKeyChannels(int[] channels) {
        return new HeadPlan(keptTokens, fullWidthTail, channels, keyScores, valueChannels, format, encodedLimit, rules);
    }

    public HeadPlan withKeyScores(double[] scores) {
        return new HeadPlan(keptTokens, fullWidthTail, keyChannels, scores, valueChannels, format, encodedLimit, rules);
    }

    public HeadPlan withValueChannels(int[] channels) {
        return new HeadPlan(keptTokens, fullWidthTail, keyChannels, keyScores, channels, format, encodedLimit, rules);
    }

    public HeadPlan withFormat(StoreFormat<?, ?> f, OptionalInt limit) {
        return new HeadPlan(keptTokens, fullWidthTail, keyChannels, keyScores, valueChannels, f, limit, rules);
    }

    public HeadPlan withRule(DecodeRule rule) {
        List<DecodeRule> r = new ArrayList<>(rules);
        r.add(rule);
        return new HeadPlan(keptTokens, fullWidthTail, keyChannels, keyScores, valueChannels, format, encodedLimit, r);
    }

    /** Tokens left in the dense tail. */
    public int tailTokens() {
        return fullWidthTail.orElse(keptTokens.length);
    }

    /** Kept tokens stored compressed (before the tail). */
    public int bodyTokens() {
        return keptTokens.length - tailTokens();
    }

    /** Compressed tokens stored in {@link #format()}; the rest of the body stays narrowed floats. */
    public int encodedTokens() {
        return Math.min(encodedLimit.orElse(bodyTokens()), bodyTokens());
    }
}
