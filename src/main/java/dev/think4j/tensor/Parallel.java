package dev.think4j.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/** Runs row-parallel work on one pool sized to the cores (override with -Dthink4j.threads=N). */
public final class Parallel {
    private static volatile ForkJoinPool pool = newPool(Integer.getInteger("think4j.threads",
            Runtime.getRuntime().availableProcessors()));

    private Parallel() {
    }

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(Math.max(1, threads));
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Replaces the worker pool (for benchmarks comparing thread counts). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (threads != pool.getParallelism()) {
            ForkJoinPool old = pool;
            pool = newPool(threads);
            old.shutdown();
        }
    }

    /** Calls body for every i in [0, n), split in chunks over the pool; runs inline when tiny. */
    public static void forRange(int n, IntConsumer body) {
        forRange(n, Long.MAX_VALUE, body);
    }

    /** Work below this many multiply-adds costs more to hand to other threads than to do here. */
    public static final long INLINE_WORK = 1L << 16;

    /**
     * As {@link #forRange(int, IntConsumer)}, running inline when {@code work} (about the number of
     * multiply-adds in total) is too small to pay for a hand-off to the pool.
     */
    public static void forRange(int n, long work, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        ForkJoinPool p = pool;
        if (n == 1 || p.getParallelism() == 1 || work < INLINE_WORK) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        int chunks = Math.min(n, p.getParallelism() * 4);
        try {
            p.submit(() -> IntStream.range(0, chunks).parallel().forEach(c -> {
                int from = (int) ((long) n * c / chunks);
                int to = (int) ((long) n * (c + 1) / chunks);
                for (int i = from; i < to; i++) {
                    body.accept(i);
                }
            })).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        }
    }
}
