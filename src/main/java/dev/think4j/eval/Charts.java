package dev.think4j.eval;

import dev.think4j.Think4jException;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
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

    /**
     * A heatmap: {@code values[y][x]}; NaN cells are left out. With {@code scoreScale} the colour runs
     * red to green over [0, 1] and cells are labelled, otherwise dark to bright over the data range.
     */
    public static Path heatmap(Path file, String title, String xTitle, String yTitle, List<String> xLabels,
                               List<String> yLabels, double[][] values, boolean scoreScale) {
        int w = Math.max(640, Math.min(1600, 60 + xLabels.size() * (scoreScale ? 70 : 12)));
        int h = Math.max(420, Math.min(1200, 120 + yLabels.size() * (scoreScale ? 40 : 12)));
        HeatMapChart c = new HeatMapChart(w, h, Styler.ChartTheme.XChart);
        c.setTitle(title);
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
        c.addSeries(title, xLabels, yLabels, cells);
        c.getStyler().setRangeColors(scoreScale ? SCORE_COLORS : MAGNITUDE_COLORS);
        if (scoreScale) {
            c.getStyler().setMin(0).setMax(1);
            c.getStyler().setShowValue(true);
            c.getStyler().setValueFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11)).setValueFontColor(Color.BLACK);
            c.getStyler().setHeatMapValueDecimalPattern("0.00");
        } else if (min <= max) {
            c.getStyler().setMin(min).setMax(max == min ? min + 1 : max);
        }
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);

        // the heatmap legend has no font in the default theme: without one, painting fails
        c.getStyler().setLegendFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11));
        return save(c, file);
    }

    /** A named line (or scatter when {@code lines} is false). */
    public record Series(String name, double[] x, double[] y) {
    }

    public static Path lines(Path file, String title, String xTitle, String yTitle, List<Series> series, boolean logY) {
        XYChart c = new XYChart(800, 500);
        c.setTitle(title);
        c.setXAxisTitle(xTitle);
        c.setYAxisTitle(yTitle);
        c.getStyler().setYAxisLogarithmic(logY);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        for (Series s : series) {
            XYSeries xs = c.addSeries(s.name(), s.x(), s.y());
            xs.setMarker(SeriesMarkers.CIRCLE);
        }
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
