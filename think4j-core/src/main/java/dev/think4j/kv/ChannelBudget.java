package dev.think4j.kv;

import dev.think4j.Think4jException;

/** How many key channels a (layer, KV head) keeps: the same ratio everywhere, one per layer, or one per head. */
@FunctionalInterface
public interface ChannelBudget {
    int keep(int layer, int kvHead, int layers, int headDim);

    /** D - floor(lambda * D) everywhere. */
    static ChannelBudget uniform(double lambda) {
        return (layer, kvHead, layers, d) -> ChannelSelection.keepCount(d, lambda);
    }

    /** One pruning ratio per layer (the list must have one per model layer). */
    static ChannelBudget perLayer(double[] lambdas) {
        double[] copy = lambdas.clone();
        return (layer, kvHead, layers, d) -> {
            checkLayers(copy, layers);
            return ChannelSelection.keepCount(d, copy[layer]);
        };
    }

    static void checkLayers(double[] lambdas, int layers) {
        if (lambdas.length != layers) {
            throw new Think4jException("invalid --kv: layers= lists " + lambdas.length + " ratios but the model has "
                    + layers + " layers");
        }
    }

    /** Kept channels given per [layer][kvHead] (an allocation made for the whole model). */
    static ChannelBudget table(int[][] keep) {
        return (layer, kvHead, layers, d) -> keep[layer][kvHead];
    }
}
