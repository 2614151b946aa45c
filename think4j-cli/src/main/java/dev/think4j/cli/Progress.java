package dev.think4j.cli;

import java.io.PrintWriter;
import java.util.Locale;

/** A one-line progress bar on stderr, redrawn in place; silent when disabled. */
public final class Progress {
    private final PrintWriter err;
    private final String label;
    private final int total;
    private final boolean enabled;
    private final long start = System.nanoTime();
    private long lastDraw;

    public Progress(PrintWriter err, String label, int total, boolean enabled) {
        this.err = err;
        this.label = label;
        this.total = total;
        this.enabled = enabled && total > 0;
    }

    public void update(int done) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (done < total && now - lastDraw < 200_000_000L) {
            return;
        }
        lastDraw = now;
        int width = 30;
        int filled = (int) ((long) width * done / total);
        double elapsed = (now - start) / 1e9;
        double eta = done == 0 ? 0 : elapsed / done * (total - done);
        err.printf(Locale.ROOT, "\r%s [%s%s] %d/%d  %.0fs elapsed, ~%.0fs left ", label, "#".repeat(filled),
                " ".repeat(width - filled), done, total, elapsed, eta);
        if (done >= total) {
            err.println();
        }
        err.flush();
    }
}
