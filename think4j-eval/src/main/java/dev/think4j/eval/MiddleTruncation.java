package dev.think4j.eval;

import java.util.Arrays;

/**
 * LongBench's truncation: a prompt longer than the budget keeps its first and last halves, because
 * instructions sit at both ends and the middle is the least harmful part to lose.
 */
public final class MiddleTruncation {
    private MiddleTruncation() {
    }

    public static int[] truncate(int[] ids, int max) {
        if (max < 2) {
            throw new IllegalArgumentException("budget must be >= 2 tokens, got " + max);
        }
        if (ids.length <= max) {
            return ids;
        }
        int head = max / 2;
        int tail = max - head;
        int[] out = Arrays.copyOf(ids, max);
        System.arraycopy(ids, ids.length - tail, out, head, tail);
        return out;
    }
}
