package dev.think4j.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The memory/quality Pareto front, where both axes are "lower is better". */
public final class Pareto {
    private Pareto() {
    }

    /** Points not dominated by another (no other point has x <= and y <= with one strictly lower), by x. */
    public static List<Charts.Point> front(List<Charts.Point> points) {
        List<Charts.Point> sorted = new ArrayList<>(points);
        sorted.removeIf(p -> Double.isNaN(p.x()) || Double.isNaN(p.y()));
        sorted.sort(Comparator.comparingDouble(Charts.Point::x).thenComparingDouble(Charts.Point::y));
        List<Charts.Point> front = new ArrayList<>();
        double best = Double.POSITIVE_INFINITY;
        for (Charts.Point p : sorted) {
            if (p.y() < best) {
                front.add(p);
                best = p.y();
            }
        }
        return front;
    }
}
