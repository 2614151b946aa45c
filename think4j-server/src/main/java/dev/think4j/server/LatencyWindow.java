package dev.think4j.server;

import java.util.Arrays;

/**
 * Latencies for percentiles: the last {@code capacity} values (a ring, so the percentiles follow
 * the current load) plus an all-time count and sum, as a Prometheus summary has them.
 */
final class LatencyWindow {
    private final double[] ring;
    private int next;
    private int filled;
    private long count;
    private double sum;

    LatencyWindow(int capacity) {
        ring = new double[capacity];
    }

    synchronized void add(double seconds) {
        ring[next] = seconds;
        next = (next + 1) % ring.length;
        filled = Math.min(ring.length, filled + 1);
        count++;
        sum += seconds;
    }

    synchronized long count() {
        return count;
    }

    synchronized double sum() {
        return sum;
    }

    /** Nearest-rank percentiles (q in (0, 1]) of the window, NaN when it is empty. */
    synchronized double[] quantiles(double... qs) {
        double[] sorted = Arrays.copyOf(ring, filled);
        Arrays.sort(sorted);
        double[] out = new double[qs.length];
        for (int i = 0; i < qs.length; i++) {
            out[i] = filled == 0 ? Double.NaN : sorted[Math.max(0, (int) Math.ceil(qs[i] * filled) - 1)];
        }
        return out;
    }
}
