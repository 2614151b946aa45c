package dev.think4j.eval;

import dev.think4j.Think4jException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The spec list of a sweep: explicit specs, or every combination of an eviction method with a token
 * budget ("none" = no eviction) and a channel-pruning ratio (0 = no pruning). The full cache is
 * always included first as the reference point.
 */
public final class SweepGrid {
    private SweepGrid() {
    }

    public static List<String> specs(List<String> explicit, List<String> methods, List<Integer> budgets, List<Double> lambdas,
                                     String pruneMethod) {
        List<String> out = new ArrayList<>();
        out.add("full");
        if (explicit != null && !explicit.isEmpty()) {
            for (String s : explicit) {
                add(out, s.trim());
            }
            return out;
        }
        List<String> ms = methods == null || methods.isEmpty() ? List.of("none") : methods;
        List<Double> ls = lambdas == null || lambdas.isEmpty() ? List.of(0.0) : lambdas;
        for (String m : ms) {
            boolean evict = !m.equals("none");
            if (evict && (budgets == null || budgets.isEmpty())) {
                throw new Think4jException("method '" + m + "' needs --budgets (tokens kept per KV head)");
            }
            List<Integer> bs = evict ? budgets : List.of(0);
            for (int b : bs) {
                for (double l : ls) {
                    List<String> terms = new ArrayList<>();
                    if (evict) {
                        terms.add(m + ":" + b);
                    }
                    if (l > 0) {
                        terms.add(pruneMethod + ":" + fmt(l));
                    }
                    add(out, terms.isEmpty() ? "full" : String.join("+", terms));
                }
            }
        }
        return out;
    }

    private static void add(List<String> out, String s) {
        if (!out.contains(s)) {
            out.add(s);
        }
    }

    static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.format(Locale.ROOT, "%s", d);
    }
}
