package dev.think4j.kv;

import dev.think4j.Think4jException;
import java.util.List;
import java.util.Map;

/**
 * The arguments of one spec term, e.g. {@code think:k=0.5,v=0.3,window=32} or
 * {@code streamingllm:4,252}: positional values and {@code key=value} options.
 */
public record SpecArgs(String name, String term, List<String> positional, Map<String, String> named) {

    public Think4jException error(String message) {
        return new Think4jException("invalid --kv term '" + term + "': " + message);
    }

    public int positionalCount() {
        return positional.size();
    }

    public boolean has(String key) {
        return named.containsKey(key);
    }

    public String string(String key, String defaultValue) {
        return named.getOrDefault(key, defaultValue);
    }

    public double number(int index) {
        if (index >= positional.size()) {
            throw error("missing argument " + (index + 1));
        }
        return parseDouble(positional.get(index), "argument " + (index + 1));
    }

    public double number(String key, double defaultValue) {
        String v = named.get(key);
        return v == null ? defaultValue : parseDouble(v, "option " + key);
    }

    public int integer(int index) {
        if (index >= positional.size()) {
            throw error("missing argument " + (index + 1));
        }
        return parseInt(positional.get(index), "argument " + (index + 1));
    }

    public int integer(String key, int defaultValue) {
        String v = named.get(key);
        return v == null ? defaultValue : parseInt(v, "option " + key);
    }

    /** Rejects options this press does not know, so typos fail loudly. */
    public void allowOnly(String... keys) {
        for (String k : named.keySet()) {
            if (!List.of(keys).contains(k)) {
                throw error("unknown option '" + k + "'" + (keys.length > 0 ? " (allowed: " + String.join(", ", keys) + ")" : ""));
            }
        }
    }

    public void maxPositional(int n) {
        if (positional.size() > n) {
            throw error("expected at most " + n + " positional argument(s), got " + positional.size());
        }
    }

    private double parseDouble(String s, String what) {
        try {
            double d = Double.parseDouble(s);
            if (!Double.isFinite(d)) {
                throw error(what + " must be a finite number, got '" + s + "'");
            }
            return d;
        } catch (NumberFormatException e) {
            throw error(what + " must be a number, got '" + s + "'");
        }
    }

    private int parseInt(String s, String what) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw error(what + " must be an integer, got '" + s + "'");
        }
    }
}
