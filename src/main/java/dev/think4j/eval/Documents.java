package dev.think4j.eval;

import dev.think4j.Think4jException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Splits a text file into documents at a separator line (TinyStories uses {@code <|endoftext|>}). */
public final class Documents {
    private Documents() {
    }

    public static List<String> read(Path file, String separator, int maxDocs) {
        if (!Files.isRegularFile(file)) {
            throw new Think4jException("text file not found: " + file);
        }
        String all;
        try {
            all = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new Think4jException("cannot read " + file + ": " + e.getMessage());
        }
        List<String> docs = new ArrayList<>();
        String[] parts = separator == null || separator.isEmpty() ? new String[] {all} : all.split(java.util.regex.Pattern.quote(separator), -1);
        for (String p : parts) {
            String d = p.strip();
            if (!d.isEmpty()) {
                docs.add(d);
                if (maxDocs > 0 && docs.size() >= maxDocs) {
                    break;
                }
            }
        }
        if (docs.isEmpty()) {
            throw new Think4jException(file + " has no documents (separator '" + separator + "')");
        }
        return docs;
    }
}
