package dev.think4j.eval;

import dev.think4j.Think4jException;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG charts for reports, drawn off-screen (no display needed). */
public final class Charts {
    /** Red (0) to yellow to green (1): the palette of the familiar needle-in-a-haystack chart. */
    private static final Color[] SCORE_COLORS = {new Color(0xF0, 0x49, 0x6E), new Color(0xEB, 0xB8, 0x39), new Color(0x0C, 0xD7, 0x9F)};
    private static final Color[] MAGNITUDE_COLORS = {new Color(0x20, 0x20, 0x60), new Color(0x30, 0x90, 0xC0), new Color(0xF0, 0xE0, 0x40)};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /** Marker shapes cycled over series, so that series drawn on top of each other stay apart. */
    private static final Marker[] MARKERS = {SeriesMarkers.CIRCLE, SeriesMarkers.DIAMOND, SeriesMarkers.SQUARE,
        SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN, SeriesMarkers.CROSS, SeriesMarkers.PLUS, SeriesMarkers.OVAL};

    /**
     * A heatmap: {@code values[y][x]}; NaN cells are left out. With {@code scoreScale} the colour runs
     * red to green over [0, 1] and cells are labelled, otherwise dark to bright over the data range.
     * {@code valueTitle} names what the colour measures (shown in the title next to the colour scale).
     */
    public static Path heatmap(Path file, String title, String xTitle, String yTitle, String valueTitle, List<String> xLabels,
                               List<String> yLabels, double[][] values, boolean scoreScale) {
        int w = Math.max(640, Math.min(1600, 60 + xLabels.size() * (scoreScale ? 70 : 12)));
        int h = Math.max(420, Math.min(1200, 120 + yLabels.size() * (scoreScale ? 40 : 12)));
        HeatMapChart c = new HeatMapChart(w, h, Styler.ChartTheme.XChart);
        c.setTitle(title + "   (colour: " + valueTitle + ")");
        c.setXAxisTitle(xTitle);
        c.setYAxisTitle(yTitle);
        List<Number[]> cells = new ArrayList<>();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int y = 0; y < values.length; y++) {
            for (int x = 0; x < values[y].length; x++) {
                double v = values[y][x];
                if (!Double.isNaN(v)) {
                    cells.add(new Number[] {x, y, v});
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        // categories closer than a label's width overprint each other: keep every k-th label
        int widest = xLabels.stream().mapToInt(String::length).max().orElse(1);
        c.addSeries(title, thin(xLabels, w - 200, Math.max(16, 8 * widest + 8)), thin(yLabels, h - 120, 16), cells);
        c.getStyler().setRangeColors(scoreScale ? SCORE_COLORS : MAGNITUDE_COLORS);
        if (scoreScale) {
            c.getStyler().setMin(0).setMax(1);
            c.getStyler().setShowValue(true);
            c.getStyler().setValueFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11)).setValueFontColor(Color.BLACK);
            c.getStyler().setHeatMapValueDecimalPattern("0.00");
        } else if (min <= max) {
            // the colour-scale legend prints its bounds as raw doubles: give it round ones
            double lo = round(min, false);
            double hi = round(max, true);
            c.getStyler().setMin(lo).setMax(hi > lo ? hi : lo + 1);
        }
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);

        // the heatmap legend has no font in the default theme: without one, painting fails
        c.getStyler().setLegendFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11));
        return save(c, file);
    }

    /**
     * Every label when they fit in {@code pixels} at {@code perLabel} pixels each, else every k-th one
     * (k a power of two) and blanks between.
     */
    static List<String> thin(List<String> labels, int pixels, int perLabel) {
        int n = labels.size();
        int needed = Math.max(1, (int) Math.ceil((double) n * perLabel / Math.max(1, pixels)));
        if (needed == 1) {
            return labels;
        }
        // a power of two, so that labels at head boundaries (head dims are powers of two) are kept
        int step = Integer.highestOneBit(needed - 1) << 1;
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // blanks of distinct widths: the axis treats labels as categories and may merge equal ones
            out.add(i % step == 0 ? labels.get(i) : " ".repeat(1 + i % step));
        }
        return out;
    }

    /** {@code v} rounded outward (down, or up with {@code up}) to two significant digits. */
    static double round(double v, boolean up) {
        if (v == 0 || Double.isInfinite(v) || Double.isNaN(v)) {
            return v;
        }
        // in decimal (from the shortest repr), so that the legend shows 0.41, not 0.41000000000000003
        return new java.math.BigDecimal(Double.toString(v)).round(new java.math.MathContext(2, up ? java.math.RoundingMode.CEILING
                : java.math.RoundingMode.FLOOR)).doubleValue();
    }

    /** A named line (or scatter when {@code lines} is false). */
    public record Series(String name, double[] x, double[] y) {
    }

    public static Path lines(Path file, String title, String xTitle, String yTitle, List<Series> series, boolean logY) {
        return lines(file, title, xTitle, yTitle, series, logY, null, null);
    }

    /**
     * Lines with a distinct marker per series. Where series coincide (say, all-zero accuracies),
     * each is shifted sideways by a small step so that none hides another; {@code yMin}/{@code yMax}
     * (nullable) fix the vertical range, e.g. [0, 1] for accuracies.
     */
    public static Path lines(Path file, String title, String xTitle, String yTitle, List<Series> series, boolean logY,
                             Double yMin, Double yMax) {
        XYChart c = new XYChart(800, 500);
        c.setTitle(title);
        c.setXAxisTitle(xTitle);
        c.setYAxisTitle(yTitle);
        c.getStyler().setYAxisLogarithmic(logY);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double xlo = Double.POSITIVE_INFINITY;
        double xhi = Double.NEGATIVE_INFINITY;
        boolean integerX = true;
        for (Series s : series) {
            for (double v : s.y()) {
                if (!Double.isNaN(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            for (double v : s.x()) {
                xlo = Math.min(xlo, v);
                xhi = Math.max(xhi, v);
                integerX &= v == Math.rint(v);
            }
        }
        double dodge = overlap(series) && xhi > xlo ? (xhi - xlo) * 0.012 : 0;
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            double shift = dodge * (i - (series.size() - 1) / 2.0);
            double[] x = s.x().clone();
            for (int j = 0; j < x.length; j++) {
                x[j] += shift;
            }
            XYSeries xs = c.addSeries(s.name(), x, s.y());
            xs.setMarker(MARKERS[i % MARKERS.length]);
        }
        if (dodge > 0) {
            // the shifted points fall between integers: keep integer ticks integral anyway
            c.getStyler().setXAxisMin(xlo - dodge * series.size()).setXAxisMax(xhi + dodge * series.size());
        }
        if (integerX) {
            c.getStyler().setXAxisDecimalPattern("#,##0");
        } else {
            c.getStyler().setXAxisDecimalPattern(pattern(xhi - xlo));
        }
        if (!logY) {
            if (yMin != null) {
                c.getStyler().setYAxisMin(yMin);
            }
            if (yMax != null) {
                c.getStyler().setYAxisMax(yMax);
            }
            if (yMin != null && yMax != null && !series.isEmpty() && xhi >= xlo) {
                // ticks are placed from the data's range, not the axis's: flat data would get only the two ends
                XYSeries range = c.addSeries(" ", new double[] {xlo, xhi}, new double[] {yMin, yMax});
                range.setMarker(SeriesMarkers.NONE);
                range.setLineColor(new Color(0, 0, 0, 0));
                range.setShowInLegend(false);
            }
            if (yMin == null && yMax == null && lo == hi) {
                // a flat series gets a single, unlabelled tick otherwise
                double pad = lo == 0 ? 1 : Math.abs(lo) * 0.5;
                c.getStyler().setYAxisMin(lo - pad).setYAxisMax(hi + pad);
            }
            double span = (yMax != null ? yMax : hi) - (yMin != null ? yMin : lo);
            c.getStyler().setYAxisDecimalPattern(pattern(span > 0 ? span : Math.abs(hi)));
        }
        return save(c, file);
    }

    /** Whether two series share a point, so that one would be drawn over the other. */
    static boolean overlap(List<Series> series) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Series s : series) {
            java.util.Set<String> mine = new java.util.HashSet<>();
            for (int j = 0; j < s.x().length; j++) {
                mine.add(s.x()[j] + "," + s.y()[j]);
            }
            for (String p : mine) {
                if (!seen.add(p)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A tick-label pattern with enough decimals for a range: 0.001 -> "0.0###", 50 -> "#,##0.#". */
    static String pattern(double span) {
        if (!(span > 0) || Double.isInfinite(span)) {
            return "#,##0.###";
        }
        int decimals = Math.max(0, Math.min(8, 2 - (int) Math.floor(Math.log10(span))));
        return decimals == 0 ? "#,##0" : "#,##0." + "#".repeat(decimals);
    }

    /**
     * Grouped bars: one group per category, one bar per series ({@code values.get(series)[category]},
     * NaN drawn as no bar), with an optional fixed vertical range.
     */
    public static Path bars(Path file, String title, String xTitle, String yTitle, List<String> categories,
                            java.util.Map<String, double[]> values, Double yMin, Double yMax) {
        CategoryChart c = new CategoryChart(Math.max(800, Math.min(1600, 200 + categories.size() * values.size() * 40)), 500);
        c.setTitle(title);
        c.setXAxisTitle(xTitle);
        c.setYAxisTitle(yTitle);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        double lo = 0;
        double hi = 0;
        for (java.util.Map.Entry<String, double[]> e : values.entrySet()) {
            List<Double> ys = new ArrayList<>();
            for (double v : e.getValue()) {
                ys.add(Double.isNaN(v) ? null : v);
                if (!Double.isNaN(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            c.addSeries(e.getKey(), categories, ys);
        }
        // value labels on the bars: a zero score is otherwise no bar at all, indistinguishable from a missing one
        c.getStyler().setLabelsVisible(true);
        c.getStyler().setLabelsFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11));
        c.getStyler().setLabelsFontColorAutomaticEnabled(false);
        c.getStyler().setLabelsFontColor(Color.DARK_GRAY);
        c.getStyler().setLabelsPosition(1.0);
        if (yMin != null) {
            c.getStyler().setYAxisMin(yMin);
        }
        if (yMax != null) {
            c.getStyler().setYAxisMax(yMax);
        } else if (hi == lo) {
            c.getStyler().setYAxisMax(lo + 1);
        }
        double span = (yMax != null ? yMax : hi) - (yMin != null ? yMin : lo);
        c.getStyler().setYAxisDecimalPattern(pattern(span));
        c.getStyler().setXAxisLabelRotation(categories.stream().mapToInt(String::length).max().orElse(0) * categories.size() > 80 ? 30 : 0);
        return save(c, file);
    }

    /** One labelled point of a memory/quality trade-off. */
    public record Point(String label, double x, double y) {
    }

    /**
     * Scatter of all points with the Pareto front (lowest y for at most that x) drawn as a line;
     * points are labelled by index in the legend so long spec strings stay readable.
     */
    public static Path pareto(Path file, String title, String xTitle, String yTitle, List<Point> points) {
        XYChart c = new XYChart(900, 560);
        c.setTitle(title);
        c.setXAxisTitle(xTitle);
        c.setYAxisTitle(yTitle);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        c.getStyler().setMarkerSize(10);
        List<Point> front = Pareto.front(points);
        if (!front.isEmpty()) {
            XYSeries f = c.addSeries("Pareto front", front.stream().mapToDouble(Point::x).toArray(),
                    front.stream().mapToDouble(Point::y).toArray());
            f.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            f.setLineColor(Color.RED);
            f.setMarker(SeriesMarkers.NONE);
        }
        for (Point p : points) {
            String mark = front.contains(p) ? " *" : "";
            XYSeries s = c.addSeries(p.label() + mark, new double[] {p.x()}, new double[] {p.y()});
            s.setMarker(front.contains(p) ? SeriesMarkers.DIAMOND : SeriesMarkers.CIRCLE);
        }
        if (!points.isEmpty()) {
            java.util.DoubleSummaryStatistics xs = points.stream().mapToDouble(Point::x).summaryStatistics();
            java.util.DoubleSummaryStatistics ys = points.stream().mapToDouble(Point::y).summaryStatistics();
            c.getStyler().setXAxisDecimalPattern(pattern(xs.getMax() - xs.getMin() > 0 ? xs.getMax() - xs.getMin() : Math.abs(xs.getMax())));
            c.getStyler().setYAxisDecimalPattern(pattern(ys.getMax() - ys.getMin() > 0 ? ys.getMax() - ys.getMin() : Math.abs(ys.getMax())));
        }
        return save(c, file);
    }

    private static Path save(Chart<?, ?> chart, Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            String name = file.toString();
            String base = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name;
            BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
            return Path.of(base + ".png");
        } catch (IOException e) {
            throw new Think4jException("cannot write chart " + file + ": " + e.getMessage());
        }
    }
}
