package dev.think4j.kv;

import java.util.Optional;

/**
 * H2O (heavy-hitter oracle): tokens that have received the most attention are kept, plus the most
 * recent ones. At the end of prefill the window queries' attention ranks the prompt; in
 * {@code mode=decode} (the default) every decode step adds its attention to each token's score and
 * the lowest-scoring token outside the recent window is evicted whenever a head holds more than
 * BUDGET tokens. {@code mode=prefill} is the one-shot variant.
 */
final class H2o {
    private H2o() {
    }

    /** {@code h2o:BUDGET[,recent=BUDGET/2,mode=decode|prefill,window=32]}. */
    static EvictionPress parse(SpecArgs a) {
        a.maxPositional(1);
        a.allowOnly("recent", "mode", "window");
        int budget = a.integer(0);
        int recent = a.integer("recent", budget / 2);
        String mode = a.string("mode", "decode");
        if (!mode.equals("decode") && !mode.equals("prefill")) {
            throw a.error("mode must be decode or prefill, got '" + mode + "'");
        }
        if (budget < 2 || recent < 1 || recent >= budget) {
            throw a.error("need BUDGET >= 2 and 1 <= recent < BUDGET, got budget " + budget + ", recent " + recent);
        }
        boolean decode = mode.equals("decode");
        String spec = "h2o:" + budget + (recent != budget / 2 ? ",recent=" + recent : "") + (decode ? "" : ",mode=prefill");
        return new EvictionPress(spec, TokenScorer.windowAttention(), TokenBudget.uniform(budget), h -> recent, 1,
                a.integer("window", KvPolicy.DEFAULT_WINDOW),
                decode ? Optional.of(scores -> new HeavyHitters(budget, recent, scores)) : Optional.empty());
    }

    /** Accumulated attention per cached token (cache order); evicts the lowest outside the recent window. */
    static final class HeavyHitters implements DecodeRule {
        private final int budget;
        private final int recent;
        private double[] v;
        private int n;

        HeavyHitters(int budget, int recent, double[] initial) {
            this.budget = budget;
            this.recent = recent;
            this.v = initial.clone();
            this.n = initial.length;
        }

        void write(StateWriter out) {
            out.i32(budget).i32(recent).i32(n).doubles(v, 0, n);
        }

        static HeavyHitters read(StateReader in) {
            int budget = in.count("H2O budget", 2, Integer.MAX_VALUE);
            int recent = in.count("H2O recent window", 1, budget - 1);
            int n = in.count("H2O scores", 0, in.remaining() / 8);
            double[] v = new double[n];
            in.doubles(v, 0, n);
            return new HeavyHitters(budget, recent, v);
        }

        private void ensure(int size) {
            if (size > v.length) {
                v = java.util.Arrays.copyOf(v, Math.max(size, v.length * 2));
            }
            if (size > n) {
                java.util.Arrays.fill(v, n, size, 0);
                n = size;
            }
        }

        @Override
        public boolean observesAttention() {
            return true;
        }

        @Override
        public void observe(float[] probs, int off, int count) {
            ensure(count);
            for (int i = 0; i < count; i++) {
                v[i] += probs[off + i];
            }
        }

        @Override
        public Step next(HeadStatus head, int generated) {
            ensure(head.length());
            if (head.length() <= budget) {
                return null;
            }
            int candidates = head.length() - recent;
            int worst = 0;
            for (int i = 1; i < candidates; i++) {
                if (v[i] < v[worst]) {
                    worst = i;
                }
            }
            System.arraycopy(v, worst + 1, v, worst, n - worst - 1);
            n--;
            return new Evict(new int[] {worst});
        }
    }
}
