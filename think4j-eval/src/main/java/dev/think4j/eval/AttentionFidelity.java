package dev.think4j.eval;

import dev.think4j.Think4jException;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import java.util.ArrayList;
import java.util.List;

/**
 * How far a compressed cache's attention is from the full cache's, per layer. The prompt minus its
 * last {@code probe} tokens is prefilled and compressed; the probe tokens are then decoded one by one
 * and each layer's attention is computed from both caches for the same query.
 */
public final class AttentionFidelity {
    /**
     * @param outputRelError ||o_full - o_comp||_F / ||o_full||_F over probe tokens and heads
     * @param logitLoss      ||Q K^T - Q K_c^T||_F of the unscaled attention logits (for channel pruning
     *                       K_c = K S); NaN when eviction left no head with all tokens
     * @param logitRelLoss   logitLoss / ||Q K^T||_F
     * @param comparedHeads  share of (probe token, query head) pairs whose logits could be compared
     */
    public record Layer(int layer, double outputRelError, double logitLoss, double logitRelLoss, double comparedHeads) {
    }

    private AttentionFidelity() {
    }

    public static List<Layer> measure(Model model, int[] ids, KvPolicy policy, int probe, int chunk) {
        if (probe < 1 || ids.length - probe < 1) {
            throw new Think4jException("the prompt has " + ids.length + " tokens; it needs more than the " + probe
                    + " probe tokens (lower --probe or give a longer prompt)");
        }
        if (ids.length > model.config().contextLength()) {
            throw new Think4jException("the prompt has " + ids.length + " tokens but the context is " + model.config().contextLength());
        }
        CompressedKvCache full = model.newCache(KvPolicy.none());
        CompressedKvCache comp = model.newCache(policy);
        TeeCache tee = new TeeCache(full, comp);
        Transformer tf = model.newTransformer(chunk);
        int prefix = ids.length - probe;
        tf.forward(ids, 0, prefix, tee, null, null);
        tee.endPrefill();
        tee.measuring = true;
        for (int t = prefix; t < ids.length; t++) {
            tf.forward(ids, t, 1, tee, null, null);
        }
        List<Layer> out = new ArrayList<>();
        double[][] s = tee.sums();
        for (int l = 0; l < s.length; l++) {
            double[] a = s[l];
            boolean comparable = a[4] > 0;
            out.add(new Layer(l, Math.sqrt(a[0] / Math.max(a[1], 1e-30)),
                    comparable ? Math.sqrt(a[2]) : Double.NaN,
                    comparable ? Math.sqrt(a[2] / Math.max(a[3], 1e-30)) : Double.NaN,
                    a[4] / Math.max(1, a[5])));
        }
        full.clear();
        comp.clear();
        return out;
    }
}
