package dev.think4j.generate;

import java.util.List;

/**
 * Holds back streamed text that might be the beginning of a stop string, so a stop string is
 * never shown to the user, and cuts the text where one completes.
 */
final class StopStringMatcher {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean matched;

    public StopStringMatcher(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    public boolean matched() {
        return matched;
    }

    /** Adds new text; returns the part that is safe to emit now. */
    public String accept(String piece) {
        if (stops.isEmpty()) {
            return piece;
        }
        pending.append(piece);
        int cut = -1;
        for (String s : stops) {
            int i = pending.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
            }
        }
        if (cut >= 0) {
            matched = true;
            String out = pending.substring(0, cut);
            pending.setLength(0);
            return out;
        }
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, pending.length()); k > hold; k--) {
                if (pending.substring(pending.length() - k).equals(s.substring(0, k))) {
                    hold = k;
                    break;
                }
            }
        }
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** End of generation: whatever was held back is plain text after all. */
    public String finish(String tail) {
        String s = accept(tail);
        if (matched) {
            return s;
        }
        String rest = pending.toString();
        pending.setLength(0);
        return s + rest;
    }
}
