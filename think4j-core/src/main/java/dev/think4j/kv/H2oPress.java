package dev.think4j.kv;

/**
 * H2O (heavy-hitter oracle): tokens that have received the most attention are kept, plus the most
 * recent ones. At the end of prefill the window queries' attention ranks the prompt; in
 * {@code mode=decode} (the default) every decode step adds its attention to each token's score and
 * the lowest-scoring token outside the recent window is evicted whenever a head holds more than
 * BUDGET tokens. {@code mode=prefill} is the one-shot variant.
 */
public final class H2oPress implements KvPress {
    private final int budget;
    private final int recent;
    private final boolean decode;
    private final int window;

    public H2oPress(int budget, int recent, boolean decode, int window) {
        this.budget = budget;
        this.recent = recent;
        this.decode = decode;
        this.window = window;
    }

    static H2oPress parse(SpecArgs a) {
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
        return new H2oPress(budget, recent, mode.equals("decode"), a.integer("window", KvPolicy.DEFAULT_WINDOW));
    }

    @Override
    public Stage stage() {
        return Stage.EVICT;
    }

    @Override
    public String spec() {
        return "h2o:" + budget + (recent != budget / 2 ? ",recent=" + recent : "") + (decode ? "" : ",mode=prefill");
    }

    @Override
    public int window() {
        return window;
    }

    @Override
    public boolean evictsDuringDecode() {
        return decode;
    }

    @Override
    public void compress(HeadCompression h) {
        int[] kept = h.keptTokens();
        double[] scores = WindowAttention.columnSums(WindowAttention.probabilities(h), kept.length);
        if (kept.length > budget) {
            int candidates = kept.length - recent;
            int[] positions = TokenSelection.topPlusTail(scores, candidates, budget - recent, kept.length);
            h.setKeptTokens(TokenSelection.select(kept, positions));
            double[] s = new double[positions.length];
            for (int i = 0; i < positions.length; i++) {
                s[i] = scores[positions[i]];
            }
            scores = s;
        }
        if (decode) {
            h.attach(this, new Scores(scores));
        }
    }

    /** Accumulated attention per cached token, in cache order. */
    static final class Scores {
        double[] v;
        int n;

        Scores(double[] initial) {
            v = initial.clone();
            n = initial.length;
        }

        void ensure(int size) {
            if (size > v.length) {
                v = java.util.Arrays.copyOf(v, Math.max(size, v.length * 2));
            }
            if (size > n) {
                java.util.Arrays.fill(v, n, size, 0);
                n = size;
            }
        }

        void remove(int index) {
            System.arraycopy(v, index + 1, v, index, n - index - 1);
            n--;
        }
    }

    @Override
    public boolean observesAttention() {
        return decode;
    }

    @Override
    public void observeAttention(HeadCache head, float[] probs, int off, int n) {
        Scores s = head.state(this, () -> new Scores(new double[0]));
        s.ensure(n);
        for (int i = 0; i < n; i++) {
            s.v[i] += probs[off + i];
        }
    }

    @Override
    public void afterToken(HeadCache head, int generated) {
        if (!decode) {
            return;
        }
        Scores s = head.state(this, () -> new Scores(new double[0]));
        s.ensure(head.length());
        while (head.length() > budget) {
            int candidates = head.length() - recent;
            int worst = 0;
            for (int i = 1; i < candidates; i++) {
                if (s.v[i] < s.v[worst]) {
                    worst = i;
                }
            }
            head.evict(new int[] {worst});
            s.remove(worst);
        }
    }
}
