package dev.think4j.cli;

import dev.think4j.Think4jException;
import java.util.Locale;

/** Human-readable byte counts, and parsing of sizes such as 4GiB or 512MB. */
public final class Bytes {
    private Bytes() {
    }

    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }

    public static long parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT).replace(" ", "");
        long mult = 1;
        String[][] suffixes = {{"TIB", "1099511627776"}, {"GIB", "1073741824"}, {"MIB", "1048576"}, {"KIB", "1024"},
            {"TB", "1000000000000"}, {"GB", "1000000000"}, {"MB", "1000000"}, {"KB", "1000"}, {"B", "1"}};
        for (String[] sfx : suffixes) {
            if (s.endsWith(sfx[0])) {
                mult = Long.parseLong(sfx[1]);
                s = s.substring(0, s.length() - sfx[0].length());
                break;
            }
        }
        try {
            double v = Double.parseDouble(s);
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return (long) (v * mult);
        } catch (NumberFormatException e) {
            throw new Think4jException("invalid size '" + text + "' (examples: 4GiB, 512MiB, 1e9)");
        }
    }
}
