package dev.think4j.eval;

import dev.think4j.Think4jException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Splits a text file into documents at a separator line (TinyStories uses {@code <|endoftext|>}). */
public final class Documents {
    private Documents() {
    }

    public static List<String> read(Path file, String separator, int maxDocs) {
        String all = TextFiles.readUtf8(file);
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
