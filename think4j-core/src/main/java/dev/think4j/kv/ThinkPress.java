package dev.think4j.kv;

import dev.think4j.Think4jException;
import java.util.Arrays;
import java.util.Locale;

/**
 * ThinK: query-driven key-channel pruning (and optional value-channel pruning). At the end of a
 * prefill, for each (layer, KV head) it keeps the D - floor(lambda*D) key channels with the highest
 * ThinK score, one set per KV head (shared by its query heads under GQA). Tokens before the last W
 * are stored physically narrowed to those channels; the last W and all generated tokens stay full
 * width (until flushed, when {@code flush=N} is set). With {@code queryAware = false} this is the
 * {@code keynorm} baseline that ranks channels by key norm alone.
 */
public final class ThinkPress implements KvPress {
    private final boolean queryAware;
    private final double keyLambda;
    private final double valueLambda;
    private final int window;
    private final double[] layerLambdas;
    private final int flushEvery;

    public ThinkPress(boolean queryAware, double keyLambda, double valueLambda, int window, double[] layerLambdas, int flushEvery) {
        this.queryAware = queryAware;
        this.keyLambda = keyLambda;
        this.valueLambda = valueLambda;
        this.window = window;
        this.layerLambdas = layerLambdas;
        this.flushEvery = flushEvery;
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
            a.allowOnly("k", "v", "window", "layers", "flush");
        } else {
            a.allowOnly("k", "window", "layers", "flush");
        }
        if (a.positionalCount() == 1 && a.has("k")) {
            throw a.error("give the key ratio either as the first argument or as k=, not both");
        }
        double k = a.positionalCount() == 1 ? a.number(0) : a.number("k", Double.NaN);
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
        return new ThinkPress(queryAware, k, v, w, layers, flush);
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
        sb.append(fmt(keyLambda));
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

    /** The key ratio that applies to a layer. */
    public double keyLambda(int layer, int layers) {
        if (layerLambdas == null) {
            return keyLambda;
        }
        if (layerLambdas.length != layers) {
            throw new Think4jException("invalid --kv: layers= lists " + layerLambdas.length + " ratios but the model has "
                    + layers + " layers");
        }
        return layerLambdas[layer];
    }

    /** Channel scores this press ranks by, for one head at a compression point. */
    public double[] scores(HeadCompression h) {
        return queryAware ? ChannelSelection.thinkScores(h) : ChannelSelection.keyNormScores(h);
    }

    @Override
    public void compress(HeadCompression h) {
        int d = h.headDim();
        int n = h.keptTokens().length;
        if (n <= window) {
            return; // every token is in the window: nothing to prune
        }
        int keepK = ChannelSelection.keepCount(d, keyLambda(h.layer(), h.layers()));
        int keepV = ChannelSelection.keepCount(d, valueLambda);
        if (keepK == d && keepV == d) {
            return; // lambda 0: leave the cache exactly as it is
        }
        if (keepK < d) {
            h.setKeyChannels(ChannelSelection.top(scores(h), keepK));
        }
        if (keepV < d) {
            h.setValueChannels(ChannelSelection.top(ChannelSelection.valueScores(h), keepV));
        }
        h.requireFullWidthTail(window);
    }

    @Override
    public void afterToken(HeadCache head, int generated) {
        if (flushEvery > 0 && generated % flushEvery == 0 && head.tailLength() > window
                && (head.keyChannels() != null || head.valueChannels() != null)) {
            head.flush(head.tailLength() - window);
        }
    }
}
