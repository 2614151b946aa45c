package dev.think4j.kv;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import java.util.ArrayList;
import java.util.List;

/**
 * The channel decision of a pruning press at a compression point: per layer and KV head, the kept
 * channel indices and every channel's score. Presses before the pruning one (eviction) run first,
 * as they would in the cache.
 */
public record ChannelReport(List<LayerEntry> layers) {

    public record HeadEntry(int kvHead, int[] kept, double[] scores) {
    }

    public record LayerEntry(int layer, List<HeadEntry> kvHeads) {
    }

    /** Computes the report from a cache that has been prefilled but not yet compressed. */
    public static ChannelReport of(CompressedKvCache cache) {
        KvPolicy policy = cache.policy();
        ThinkPress pruner = null;
        int index = -1;
        for (int i = 0; i < policy.presses().size(); i++) {
            if (policy.presses().get(i) instanceof ThinkPress t) {
                pruner = t;
                index = i;
                break;
            }
        }
        if (pruner == null) {
            throw new Think4jException("channels needs a channel-pruning term in --kv (think:LAMBDA or keynorm:LAMBDA), got '"
                    + policy.spec() + "'");
        }
        KvShape s = cache.shape();
        List<LayerEntry> layers = new ArrayList<>();
        for (int l = 0; l < s.layers(); l++) {
            List<HeadEntry> heads = new ArrayList<>();
            for (int g = 0; g < s.kvHeads(); g++) {
                HeadCompression view = cache.compressionView(l, g);
                for (int i = 0; i < index; i++) {
                    policy.presses().get(i).compress(view);
                }
                double[] scores = pruner.scores(view);
                pruner.compress(view);
                int[] kept = view.keyChannels() != null ? view.keyChannels()
                        : java.util.stream.IntStream.range(0, s.headDim()).toArray();
                heads.add(new HeadEntry(g, kept, scores));
            }
            layers.add(new LayerEntry(l, heads));
        }
        return new ChannelReport(layers);
    }

    public ObjectNode toJson() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        ArrayNode ls = root.putArray("layers");
        for (LayerEntry le : layers) {
            ObjectNode ln = ls.addObject();
            ln.put("layer", le.layer());
            ArrayNode hs = ln.putArray("kv_heads");
            for (HeadEntry he : le.kvHeads()) {
                ObjectNode hn = hs.addObject();
                hn.put("kv_head", he.kvHead());
                ArrayNode kept = hn.putArray("kept");
                for (int k : he.kept()) {
                    kept.add(k);
                }
                ArrayNode sc = hn.putArray("scores");
                for (double v : he.scores()) {
                    sc.add(v);
                }
            }
        }
        return root;
    }
}
