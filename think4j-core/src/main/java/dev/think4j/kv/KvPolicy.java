package dev.think4j.kv;

import java.util.List;
import java.util.stream.Collectors;

/** An ordered composition of presses (evict, then prune, then quantize); empty = full cache. */
public record KvPolicy(List<KvPress> presses) {
    public static final int DEFAULT_WINDOW = 32;

    public KvPolicy {
        presses = List.copyOf(presses);
        for (int i = 1; i < presses.size(); i++) {
            if (presses.get(i).stage().ordinal() < presses.get(i - 1).stage().ordinal()) {
                throw new IllegalArgumentException("'" + presses.get(i).spec() + "' (" + presses.get(i).stage()
                        + ") cannot follow '" + presses.get(i - 1).spec() + "' (" + presses.get(i - 1).stage()
                        + "): the order is eviction, then channel pruning, then quantization");
            }
        }
    }

    public static KvPolicy none() {
        return new KvPolicy(List.of());
    }

    public boolean isNone() {
        return presses.isEmpty();
    }

    /** Observation window to record: the largest any press asks for. */
    public int window() {
        int w = 0;
        for (KvPress p : presses) {
            w = Math.max(w, p.window());
        }
        return w;
    }

    public String spec() {
        return presses.isEmpty() ? "full" : presses.stream().map(KvPress::spec).collect(Collectors.joining("+"));
    }
}
