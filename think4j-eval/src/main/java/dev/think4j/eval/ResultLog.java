package dev.think4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-example results appended to {@code results.jsonl}, one flushed line each, so an interrupted run
 * loses at most the example in flight and a re-run skips every key already present. A torn last line
 * (the process died mid-write) is dropped and rewritten; a malformed line elsewhere is an error, since
 * silently dropping it would redo or lose work.
 */
public final class ResultLog implements AutoCloseable {
    public static final String FILE = "results.jsonl";
    private final Path file;
    private final Map<String, ObjectNode> done = new LinkedHashMap<>();
    private final Writer writer;

    public ResultLog(Path dir) {
        this.file = dir.resolve(FILE);
        try {
            Files.createDirectories(dir);
            if (Files.exists(file)) {
                load();
            }
            writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new Think4jException("cannot open " + file + ": " + e.getMessage());
        }
    }

    private void load() throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> kept = new ArrayList<>();
        boolean torn = false;
        for (int i = 0; i < lines.size(); i++) {
            String s = lines.get(i);
            if (s.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = Jsonl.parse(s, file, i + 1);
            } catch (Think4jException e) {
                if (i == lines.size() - 1) {
                    torn = true;
                    continue;
                }
                throw new Think4jException(e.getMessage() + "; fix or delete that line to resume");
            }
            JsonNode key = n.get("key");
            if (key == null) {
                throw new Think4jException(file + ":" + (i + 1) + ": result line without 'key'; not a think4j results file?");
            }
            done.put(key.asText(), (ObjectNode) n);
            kept.add(s);
        }
        if (torn || (!lines.isEmpty() && !Files.readString(file).endsWith("\n"))) {
            Files.write(file, kept.isEmpty() ? List.of() : kept, StandardCharsets.UTF_8);
        }
    }

    public Path file() {
        return file;
    }

    public boolean isDone(String key) {
        return done.containsKey(key);
    }

    public ObjectNode get(String key) {
        return done.get(key);
    }

    /** Records a finished example under {@code key} (stored in the line as "key"). */
    public void append(String key, ObjectNode result) {
        result.put("key", key);
        try {
            writer.write(result.toString());
            writer.write('\n');
            writer.flush();
        } catch (IOException e) {
            throw new Think4jException("cannot write " + file + ": " + e.getMessage());
        }
        done.put(key, result);
    }

    /** All results, earlier runs' first, in the order they were finished. */
    public List<ObjectNode> all() {
        return new ArrayList<>(done.values());
    }

    public int size() {
        return done.size();
    }

    @Override
    public void close() {
        try {
            writer.close();
        } catch (IOException e) {
            throw new Think4jException("cannot close " + file + ": " + e.getMessage());
        }
    }
}
