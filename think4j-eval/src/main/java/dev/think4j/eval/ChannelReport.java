package dev.think4j.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.HeadPlan;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvPress;
import dev.think4j.kv.KvShape;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The channel decision of a pruning press at a compression point: per layer and KV head, the kept
 * key channel indices and every channel's score, read from the plans the cache would carry out
 * (presses before the pruning one, such as eviction, run first as they would in the cache).
 */
public record ChannelReport(List<LayerEntry> layers) {

    public record HeadEntry(int kvHead, int[] kept, double[] scores) {
    }

    public record LayerEntry(int layer, List<HeadEntry> kvHeads) {
    }

    /** Computes the report from a cache that has been prefilled but not yet compressed. */
    public static ChannelReport of(CompressedKvCache cache) {
        KvPolicy policy = cache.policy();
        if (policy.presses().stream().noneMatch(p -> p.stage() == KvPress.Stage.PRUNE)) {
            throw new Think4jException("channels needs a channel-pruning term in --kv (think:LAMBDA or keynorm:LAMBDA), got '"
                    + policy.spec() + "'");
        }
        KvShape s = cache.shape();
        HeadPlan[][] plans = cache.plans();
        List<LayerEntry> layers = new ArrayList<>();
        for (int l = 0; l < s.layers(); l++) {
            List<HeadEntry> heads = new ArrayList<>();
            for (int g = 0; g < s.kvHeads(); g++) {
                HeadPlan p = plans[l][g];
                int[] kept = p.keyChannels() != null ? p.keyChannels() : IntStream.range(0, s.headDim()).toArray();
                heads.add(new HeadEntry(g, kept, p.keyScores()));
            }
            layers.add(new LayerEntry(l, heads));
        }
        return new ChannelReport(layers);
    }

    /** Kept key channels per [layer][kvHead]. */
    public int[][] keptCounts() {
        return layers.stream().map(l -> l.kvHeads().stream().mapToInt(h -> h.kept().length).toArray()).toArray(int[][]::new);
    }

    /** True when heads of one layer keep different numbers of channels (an adaptive allocation). */
    public boolean perHeadAllocation() {
        for (int[] layer : keptCounts()) {
            for (int k : layer) {
                if (k != layer[0]) {
                    return true;
                }
            }
        }
        return false;
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
        if (perHeadAllocation()) {
            ArrayNode grid = root.putArray("kept_per_head");
            for (int[] layer : keptCounts()) {
                ArrayNode row = grid.addArray();
                for (int k : layer) {
                    row.add(k);
                }
            }
        }
        return root;
    }
}
