package dev.think4j.kv;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * ThinK: query-driven key-channel pruning (and optional value-channel pruning). At the end of a
 * prefill, for each (layer, KV head) it keeps the D - floor(lambda*D) key channels with the highest
 * ThinK score, one set per KV head (shared by its query heads under GQA). Tokens before the last W
 * are stored physically narrowed to those channels; the last W and all generated tokens stay full
 * width (until flushed, when {@code flush=N} is set). With {@code queryAware = false} this is the
 * {@code keynorm} baseline that ranks channels by key norm alone.
 *
 * <p>{@code think:budget=R} keeps on average R of the key channels of the pruned tokens over the
 * whole model, the bytes of {@code think:(1-R)}, but lets {@link ChannelAllocation} share them out per
 * (layer, KV head) by measured error ({@code bytes=N}: an absolute budget for the pruned keys;
 * {@code min=M}: channels every head keeps at least, default 1).
 */
public final class ThinkPress implements KvPress {
    private final boolean queryAware;
    private final ChannelScorer scorer;
    private final ChannelBudget keyBudget;
    private final double keyLambda;
    private final double valueLambda;
    private final int window;
    private final double[] layerLambdas;
    private final int flushEvery;
    private final Optional<Adaptive> adaptive;

    /** A model-wide key budget: a kept fraction R or absolute bytes, and the least a head keeps. */
    public record Adaptive(OptionalDouble ratio, OptionalLong bytes, int min) {
    }

    public ThinkPress(boolean queryAware, double keyLambda, double valueLambda, int window, double[] layerLambdas, int flushEvery) {
        this(queryAware, keyLambda, valueLambda, window, layerLambdas, flushEvery, Optional.empty(),
                layerLambdas == null ? ChannelBudget.uniform(keyLambda) : ChannelBudget.perLayer(layerLambdas));
    }

    private ThinkPress(boolean queryAware, double keyLambda, double valueLambda, int window, double[] layerLambdas, int flushEvery,
                       Optional<Adaptive> adaptive, ChannelBudget keyBudget) {
        this.queryAware = queryAware;
        this.keyLambda = keyLambda;
        this.valueLambda = valueLambda;
        this.window = window;
        this.layerLambdas = layerLambdas;
        this.flushEvery = flushEvery;
        this.adaptive = adaptive;
        this.scorer = queryAware ? ChannelScorer.THINK : ChannelScorer.KEY_NORM;
        this.keyBudget = keyBudget;
    }

    /** {@code think:LAMBDA} or {@code think:k=..,v=..,window=..,layers=a/b/..,flush=N}. */
    public static ThinkPress think(SpecArgs a) {
        return parse(a, true);
    }

    /** {@code keynorm:LAMBDA[,window=..,layers=..,flush=N]}. */
    public static ThinkPress keyNorm(SpecArgs a) {
        return parse(a, false);
    }

    private static ThinkPress parse(SpecArgs a, boolean queryAware) {
        a.maxPositional(1);
        if (queryAware) {
            a.allowOnly("k", "v", "window", "layers", "flush", "budget", "bytes", "min");
        } else {
            a.allowOnly("k", "window", "layers", "flush");
        }
        if (a.positionalCount() == 1 && a.has("k")) {
            throw a.error("give the key ratio either as the first argument or as k=, not both");
        }
        Optional<Adaptive> adaptive = adaptive(a);
        if (adaptive.isPresent() && (a.positionalCount() == 1 || a.has("k") || a.has("layers"))) {
            throw a.error("budget=/bytes= choose the key channels per head; give no key ratio (positional, k= or layers=) with them");
        }
        double k = a.positionalCount() == 1 ? a.number(0) : a.number("k", adaptive.isPresent() ? 0 : Double.NaN);
        double[] layers = null;
        if (a.has("layers")) {
            String[] parts = a.string("layers", "").split("/");
            layers = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    layers[i] = Double.parseDouble(parts[i].trim());
                } catch (NumberFormatException e) {
                    throw a.error("layers= takes ratios separated by '/', e.g. layers=0.2/0.5/0.7; got '" + parts[i] + "'");
                }
                checkRatio(a, layers[i], "layer ratio");
            }
        }
        if (Double.isNaN(k)) {
            if (layers == null) {
                throw a.error("missing the key pruning ratio, e.g. " + a.name() + ":0.5");
            }
            k = 0;
        }
        checkRatio(a, k, "key ratio");
        double v = a.number("v", 0);
        checkRatio(a, v, "value ratio");
        int w = a.integer("window", KvPolicy.DEFAULT_WINDOW);
        if (w < 1) {
            throw a.error("window must be >= 1, got " + w);
        }
        int flush = a.integer("flush", 0);
        if (flush < 0) {
            throw a.error("flush must be >= 0 (0 = off), got " + flush);
        }
        if (adaptive.isPresent()) {
            return new ThinkPress(true, 0, v, w, null, flush, adaptive, ChannelBudget.uniform(0));
        }
        return new ThinkPress(queryAware, k, v, w, layers, flush);
    }

    private static Optional<Adaptive> adaptive(SpecArgs a) {
        if (!a.has("budget") && !a.has("bytes")) {
            if (a.has("min")) {
                throw a.error("min= goes with budget= or bytes=");
            }
            return Optional.empty();
        }
        if (a.has("budget") && a.has("bytes")) {
            throw a.error("give budget=R or bytes=N, not both");
        }
        OptionalDouble ratio = OptionalDouble.empty();
        OptionalLong bytes = OptionalLong.empty();
        if (a.has("budget")) {
            double r = a.number("budget", 1);
            if (!(r > 0 && r <= 1)) {
                throw a.error("budget (the kept fraction of key channels) must be in (0, 1], got " + r);
            }
            ratio = OptionalDouble.of(r);
        } else {
            long n;
            try {
                n = Long.parseLong(a.string("bytes", ""));
            } catch (NumberFormatException e) {
                throw a.error("bytes must be an integer, got '" + a.string("bytes", "") + "'");
            }
            if (n < 0) {
                throw a.error("bytes must be >= 0, got " + n);
            }
            bytes = OptionalLong.of(n);
        }
        int min = a.integer("min", 1);
        if (min < 1) {
            throw a.error("min must be >= 1, got " + min);
        }
        return Optional.of(new Adaptive(ratio, bytes, min));
    }

    private static void checkRatio(SpecArgs a, double r, String what) {
        if (!(r >= 0 && r < 1)) {
            throw a.error(what + " must be in [0, 1), got " + r);
        }
    }

    @Override
    public Stage stage() {
        return Stage.PRUNE;
    }

    @Override
    public int window() {
        return window;
    }

    @Override
    public String spec() {
        StringBuilder sb = new StringBuilder(queryAware ? "think:" : "keynorm:");
        if (adaptive.isPresent()) {
            Adaptive ad = adaptive.get();
            ad.ratio().ifPresent(r -> sb.append("budget=").append(fmt(r)));
            ad.bytes().ifPresent(b -> sb.append("bytes=").append(b));
            if (ad.min() != 1) {
                sb.append(",min=").append(ad.min());
            }
        } else {
            sb.append(fmt(keyLambda));
        }
        if (valueLambda > 0) {
            sb.append(",v=").append(fmt(valueLambda));
        }
        if (window != KvPolicy.DEFAULT_WINDOW) {
            sb.append(",window=").append(window);
        }
        if (layerLambdas != null) {
            sb.append(",layers=").append(String.join("/", Arrays.stream(layerLambdas).mapToObj(ThinkPress::fmt).toList()));
        }
        if (flushEvery > 0) {
            sb.append(",flush=").append(flushEvery);
        }
        return sb.toString();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.format(Locale.ROOT, "%s", d);
    }

    /** The adaptive budget, if this is {@code think:budget=} or {@code think:bytes=}. */
    public Optional<Adaptive> adaptive() {
        return adaptive;
    }

    /**
     * For {@code budget=}/{@code bytes=}: measures every head's error curve and allocates the key
     * channels for this compression point; otherwise this press as it is.
     */
    @Override
    public KvPress prepare(Heads heads) {
        if (adaptive.isEmpty()) {
            return this;
        }
        int d = heads.shape().headDim();
        List<ChannelAllocation.Curve> curves = heads.map((h, plan) -> {
            int[] kept = plan.keptTokens();
            int pruned = kept.length > window ? kept.length - window : 0;
            int[] ranking = ChannelSelection.ranking(scorer.scores(h, kept));
            return new ChannelAllocation.Curve(pruned, pruned > 0 ? ChannelAllocation.outputErrors(h, kept, pruned, ranking) : new double[d + 1]);
        });
        Adaptive ad = adaptive.get();
        long budget;
        if (ad.bytes().isPresent()) {
            budget = ad.bytes().getAsLong();
        } else {
            int uniform = ChannelSelection.keepCount(d, 1 - ad.ratio().getAsDouble());
            budget = 0;
            for (ChannelAllocation.Curve c : curves) {
                budget += ChannelAllocation.keyBytes(c.prunedTokens(), uniform, d);
            }
        }
        int[] keep = ChannelAllocation.allocate(curves.toArray(ChannelAllocation.Curve[]::new), d, ad.min(), budget);
        int g = heads.shape().kvHeads();
        int[][] table = new int[heads.shape().layers()][g];
        for (int i = 0; i < keep.length; i++) {
            table[i / g][i % g] = keep[i];
        }
        return new ThinkPress(queryAware, keyLambda, valueLambda, window, layerLambdas, flushEvery, adaptive, ChannelBudget.table(table));
    }

    @Override
    public void validate(int layers) {
        if (layerLambdas != null) {
            ChannelBudget.checkLayers(layerLambdas, layers);
        }
    }

    /**
     * Ranks key channels (the scores go into the plan for reports even when nothing is pruned), keeps
     * the budget's best per head, optionally prunes value channels, and keeps the last W tokens full
     * width. With {@code flush=N} the head also gets a rule that moves generated tokens out of the
     * full-width tail every N tokens.
     */
    @Override
    public HeadPlan compress(HeadObservation h, HeadPlan plan) {
        if (flushEvery > 0) {
            plan = plan.withRule(new FlushEvery(flushEvery, window));
        }
        int[] kept = plan.keptTokens();
        double[] scores = scorer.scores(h, kept);
        plan = plan.withKeyScores(scores);
        int d = h.headDim();
        if (kept.length <= window) {
            return plan; // every token is in the window: nothing to prune
        }
        int keepK = keyBudget.keep(h.layer(), h.kvHead(), h.layers(), d);
        int keepV = ChannelSelection.keepCount(d, valueLambda);
        if (keepK == d && keepV == d) {
            return plan; // lambda 0: leave the cache exactly as it is
        }
        if (keepK < d) {
            plan = plan.withKeyChannels(ChannelSelection.top(scores, keepK));
        }
        if (keepV < d) {
            plan = plan.withValueChannels(ChannelSelection.top(ChannelSelection.valueScores(h, kept), keepV));
        }
        return plan.requireFullWidthTail(window);
    }

    /** Every {@code every} generated tokens, moves all but the last {@code window} tail tokens into pruned storage. */
    record FlushEvery(int every, int window) implements DecodeRule {
        @Override
        public Step next(HeadStatus head, int generated) {
            boolean due = generated % every == 0 && head.tailLength() > window && head.prunesChannels();
            return due ? new DecodeRule.Flush(head.tailLength() - window) : null;
        }
    }
}
