package dev.think4j.bench.llamacpp;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads llama.cpp's server-slot timings from its log file ({@code --log-file}). After every completion
 * the slot logs, once it is released,
 * <pre>
 * prompt eval time =   X ms /  N tokens (... ms per token, ... tokens per second)
 *        eval time =   Y ms /  M tokens (... ms per token, ... tokens per second)
 *       total time =   ...
 * </pre>
 * which are the {@code timings} (prompt_ms, prompt_n, predicted_ms, predicted_n) of llama-server's
 * completion response; de.kherud:llama 4.2.0 does not return them to Java, so they are read here.
 * The block is written asynchronously, shortly after {@code complete()} returns, hence the polling.
 */
final class TimingLog {
    private static final Pattern PROMPT = Pattern.compile("prompt eval time =\\s*([0-9.]+) ms /\\s*(\\d+) tokens");
    private static final Pattern EVAL = Pattern.compile("(?m)^\\s*eval time =\\s*([0-9.]+) ms /\\s*(\\d+) tokens");
    private static final Pattern TOTAL = Pattern.compile("(?m)^\\s*total time =.*$");

    /** One completion's timings: prompt processing and token generation, in ms and tokens. */
    record Timings(double promptMs, int promptTokens, double evalMs, int evalTokens) {
    }

    private final Path file;
    private long offset;

    TimingLog(Path file) {
        this.file = file;
    }

    /** Skips everything logged so far (model loading, warm-up). */
    void skipToEnd() throws IOException {
        offset = Files.exists(file) ? Files.size(file) : 0;
    }

    /** Waits up to {@code timeoutMillis} for the next timing block after the last one read. */
    Timings next(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (true) {
            String text = readFromOffset();
            Matcher total = TOTAL.matcher(text);
            if (total.find()) {
                String block = text.substring(0, total.end());
                Matcher p = PROMPT.matcher(block);
                Matcher e = EVAL.matcher(block);
                offset += block.getBytes(StandardCharsets.UTF_8).length;
                if (p.find() && e.find()) {
                    return new Timings(Double.parseDouble(p.group(1)), Integer.parseInt(p.group(2)),
                            Double.parseDouble(e.group(1)), Integer.parseInt(e.group(2)));
                }
                continue;
            }
            if (System.nanoTime() > deadline) {
                return null;
            }
            Thread.sleep(20);
        }
    }

    private String readFromOffset() throws IOException {
        if (!Files.exists(file)) {
            return "";
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long len = raf.length();
            if (len <= offset) {
                return "";
            }
            byte[] buf = new byte[Math.toIntExact(len - offset)];
            raf.seek(offset);
            raf.readFully(buf);
            // only whole lines, so a block is never parsed half-written
            int end = buf.length;
            while (end > 0 && buf[end - 1] != '\n') {
                end--;
            }
            return new String(buf, 0, end, StandardCharsets.UTF_8);
        }
    }
}
