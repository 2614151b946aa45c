package dev.think4j.eval;

import dev.think4j.Think4jException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** A one-page Markdown report (report.md) whose images are referenced relative to the run folder. */
public final class Report {
    private final StringBuilder md = new StringBuilder();

    public Report(String title) {
        md.append("# ").append(title).append("\n\n");
    }

    public Report paragraph(String text) {
        md.append(text).append("\n\n");
        return this;
    }

    public Report heading(String text) {
        md.append("## ").append(text).append("\n\n");
        return this;
    }

    public Report bullet(String key, Object value) {
        md.append("- **").append(key).append("**: ").append(value).append('\n');
        return this;
    }

    public Report table(List<String> header, List<List<String>> rows) {
        md.append('\n').append("| ").append(String.join(" | ", header.stream().map(Report::cell).toList())).append(" |\n|");
        md.append(" --- |".repeat(header.size())).append('\n');
        for (List<String> r : rows) {
            md.append("| ").append(String.join(" | ", r.stream().map(Report::cell).toList())).append(" |\n");
        }
        md.append('\n');
        return this;
    }

    /** Table cell text: a bare '|' would end the cell and a newline the row. */
    static String cell(String s) {
        return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", " ").replace('\n', ' ');
    }

    public Report image(String alt, Path dir, Path png) {
        md.append("![").append(alt).append("](").append(dir.toAbsolutePath().relativize(png.toAbsolutePath()).toString().replace('\\', '/'))
                .append(")\n\n");
        return this;
    }

    public String markdown() {
        return md.toString();
    }

    public Path write(Path dir) {
        Path f = dir.resolve("report.md");
        try {
            Files.createDirectories(dir);
            Files.writeString(f, md);
        } catch (IOException e) {
            throw new Think4jException("cannot write " + f + ": " + e.getMessage());
        }
        return f;
    }

    public static String num(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.4g", v);
    }

    public static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f", 100 * v);
    }
}
