package dev.think4j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * Runs row-parallel work on a fixed team: the calling thread plus {@code threads - 1} workers
 * (override the size with -Dthink4j.threads=N). A decode step hands out about a hundred small
 * products per token, so dispatch must cost microseconds: workers spin briefly on a generation
 * counter between jobs (then park), and every participant, the caller included, takes chunks
 * from one shared counter until the range is done.
 *
 * <p>A call made while the team is busy (from inside a job, or from a second thread at the same
 * time) runs inline on its caller, so nesting and concurrent callers cannot deadlock.
 */
public final class Parallel {
    /** Work below this many multiply-adds costs more to hand to other threads than to do here. */
    public static final long INLINE_WORK = 1L << 16;

    private static volatile Team team = new Team(Integer.getInteger("think4j.threads",
            Runtime.getRuntime().availableProcessors()));

    private Parallel() {
    }

    public static int threads() {
        return team.size;
    }

    /** Replaces the team (for benchmarks comparing thread counts). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (threads != team.size) {
            Team old = team;
            team = new Team(threads);
            old.shutdown();
        }
    }

    /** Calls body for every i in [0, n), split in chunks over the team; runs inline when tiny. */
    public static void forRange(int n, IntConsumer body) {
        forRange(n, Long.MAX_VALUE, body);
    }

    /**
     * As {@link #forRange(int, IntConsumer)}, running inline when {@code work} (about the number of
     * multiply-adds in total) is too small to pay for a hand-off.
     */
    public static void forRange(int n, long work, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        Team t = team;
        if (n == 1 || t.size == 1 || work < INLINE_WORK || !t.tryRun(n, body)) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
        }
    }

    private static final class Team {
        /** Spin iterations before a worker parks while waiting for the next job. */
        private static final int SPINS = 20_000;

        final int size;
        private final Thread[] workers;
        private final ReentrantLock lock = new ReentrantLock();
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private volatile long generation;
        private volatile boolean stopped;
        private IntConsumer body;
        private int n;
        private int chunk;
        private volatile Throwable failure;

        Team(int size) {
            this.size = Math.max(1, size);
            this.workers = new Thread[this.size - 1];
            for (int w = 0; w < workers.length; w++) {
                workers[w] = Thread.ofPlatform().daemon().name("think4j-worker-" + (w + 1)).start(this::workerLoop);
            }
        }

        /** Runs the job on the team; false when the team is busy (the caller then runs it inline). */
        boolean tryRun(int n, IntConsumer body) {
            if (stopped || lock.isHeldByCurrentThread() || !lock.tryLock()) {
                return false;
            }
            try {
                this.body = body;
                this.n = n;
                this.chunk = Math.max(1, n / (size * 4));
                this.failure = null;
                next.set(0);
                finished.set(0);
                generation++;
                for (Thread w : workers) {
                    LockSupport.unpark(w);
                }
                work();
                while (finished.get() < workers.length) {
                    Thread.onSpinWait();
                }
                this.body = null;
                Throwable f = failure;
                if (f instanceof RuntimeException r) {
                    throw r;
                }
                if (f instanceof Error e) {
                    throw e;
                }
                if (f != null) {
                    throw new IllegalStateException(f);
                }
                return true;
            } finally {
                lock.unlock();
            }
        }

        private void work() {
            IntConsumer b = body;
            int total = n;
            int c = chunk;
            try {
                for (int from = next.getAndAdd(c); from < total; from = next.getAndAdd(c)) {
                    int to = Math.min(total, from + c);
                    for (int i = from; i < to; i++) {
                        b.accept(i);
                    }
                }
            } catch (Throwable e) {
                failure = e;
                next.set(total);
            }
        }

        private void workerLoop() {
            long seen = 0;
            while (true) {
                int spins = 0;
                while (generation == seen && !stopped) {
                    if (++spins < SPINS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.parkNanos(this, 1_000_000);
                    }
                }
                if (stopped) {
                    return;
                }
                seen = generation;
                work();
                finished.incrementAndGet();
            }
        }

        void shutdown() {
            stopped = true;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
        }
    }
}
