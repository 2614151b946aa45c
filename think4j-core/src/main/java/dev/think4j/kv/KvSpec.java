package dev.think4j.kv;

import dev.think4j.Think4jException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Parses {@code --kv} spec strings such as {@code snapkv:512+think:0.5+kivi:2} into a
 * {@link KvPolicy}. Each {@code +}-joined term is {@code name[:args]}; args are comma-separated
 * positional values and {@code key=value} options. {@code full} (or an empty spec) is the dense cache.
 */
public final class KvSpec {
    private static final Map<String, Function<SpecArgs, KvPress>> REGISTRY = new TreeMap<>();

    static {
        // One line per press; each press class validates its own arguments.
        register("think", ThinkPress::think);
        register("keynorm", ThinkPress::keyNorm);
        register("snapkv", a -> SnapKvPress.parse(a, false));
        register("pyramidkv", a -> SnapKvPress.parse(a, true));
        register("h2o", H2oPress::parse);
        register("streamingllm", StreamingLlmPress::parse);
        register("kivi", KiviPress::parse);
        register("q8_0", a -> BlockQuantPress.parse(a, dev.think4j.gguf.GgmlType.Q8_0));
        register("q4_0", a -> BlockQuantPress.parse(a, dev.think4j.gguf.GgmlType.Q4_0));
    }

    private KvSpec() {
    }

    /** Registers a press factory under a spec name (the registry is fixed at class load). */
    static void register(String name, Function<SpecArgs, KvPress> factory) {
        REGISTRY.put(name, factory);
    }

    /** Spec names users can write, including {@code full}. */
    public static List<String> names() {
        List<String> all = new ArrayList<>(REGISTRY.keySet());
        all.add("full");
        return all;
    }

    public static KvPolicy parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return KvPolicy.none();
        }
        String[] terms = spec.split("\\+", -1);
        for (String term : terms) {
            if (term.isBlank()) {
                throw new Think4jException("invalid --kv spec '" + spec + "': empty term (check the '+' separators)");
            }
        }
        if (terms.length == 1 && (terms[0].trim().equals("full") || terms[0].trim().equals("none"))) {
            return KvPolicy.none();
        }
        List<KvPress> presses = new ArrayList<>();
        for (String rawTerm : terms) {
            String term = rawTerm.trim();
            if (term.equals("full") || term.equals("none")) {
                throw new Think4jException("invalid --kv spec '" + spec + "': '" + term + "' means no compression and cannot be combined");
            }
            presses.add(parseTerm(term));
        }
        KvPolicy policy;
        try {
            policy = new KvPolicy(presses);
        } catch (IllegalArgumentException e) {
            throw new Think4jException("invalid --kv spec '" + spec + "': " + e.getMessage());
        }
        boolean evictsInDecode = presses.stream().anyMatch(KvPress::evictsDuringDecode);
        if (evictsInDecode && presses.stream().anyMatch(p -> p instanceof KiviPress)) {
            throw new Think4jException("invalid --kv spec '" + spec + "': decode-time eviction (h2o, streamingllm) cannot drop "
                    + "single tokens from KIVI groups; use h2o:N,mode=prefill or q8_0/q4_0 instead");
        }
        long stages = presses.stream().map(KvPress::stage).distinct().count();
        if (stages < presses.size()) {
            throw new Think4jException("invalid --kv spec '" + spec + "': at most one method per stage (eviction, channel pruning, quantization)");
        }
        return policy;
    }

    static KvPress parseTerm(String term) {
        int colon = term.indexOf(':');
        String name = (colon < 0 ? term : term.substring(0, colon)).trim().toLowerCase(java.util.Locale.ROOT);
        Function<SpecArgs, KvPress> factory = REGISTRY.get(name);
        if (factory == null) {
            throw new Think4jException("invalid --kv term '" + term + "': unknown method '" + name + "' (known: "
                    + String.join(", ", names()) + ")");
        }
        List<String> positional = new ArrayList<>();
        Map<String, String> named = new LinkedHashMap<>();
        if (colon >= 0) {
            String args = term.substring(colon + 1);
            if (args.isBlank()) {
                throw new Think4jException("invalid --kv term '" + term + "': empty argument list after ':'");
            }
            for (String part : args.split(",", -1)) {
                String p = part.trim();
                if (p.isEmpty()) {
                    throw new Think4jException("invalid --kv term '" + term + "': empty argument");
                }
                int eq = p.indexOf('=');
                if (eq >= 0) {
                    if (named.put(p.substring(0, eq).trim(), p.substring(eq + 1).trim()) != null) {
                        throw new Think4jException("invalid --kv term '" + term + "': option '" + p.substring(0, eq) + "' given twice");
                    }
                } else {
                    if (!named.isEmpty()) {
                        throw new Think4jException("invalid --kv term '" + term + "': positional argument '" + p + "' after options");
                    }
                    positional.add(p);
                }
            }
        }
        return factory.apply(new SpecArgs(name, term, positional, named));
    }
}
