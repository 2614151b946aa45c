package dev.think4j.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.Think4jException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads benchmark jsonl files; every problem is reported as file:line so the user can fix the data. */
public final class Jsonl {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Jsonl() {
    }

    /** One parsed line, able to fetch required fields with a located error. */
    public record Line(Path file, int number, JsonNode node) {
        public String where() {
            return file + ":" + number;
        }

        public JsonNode field(String name) {
            JsonNode v = node.get(name);
            if (v == null || v.isNull()) {
                throw new Think4jException(where() + ": missing field '" + name + "'");
            }
            return v;
        }

        public String text(String name) {
            JsonNode v = field(name);
            if (!v.isValueNode()) {
                throw new Think4jException(where() + ": field '" + name + "' must be a string, got " + v.getNodeType());
            }
            return v.asText();
        }

        /** A field holding a list of strings (a single string is accepted as a one-element list). */
        public List<String> texts(String name) {
            JsonNode v = field(name);
            List<String> out = new ArrayList<>();
            if (v.isArray()) {
                for (JsonNode e : v) {
                    out.add(e.asText());
                }
            } else if (v.isValueNode()) {
                out.add(v.asText());
            } else {
                throw new Think4jException(where() + ": field '" + name + "' must be a list of strings");
            }
            return out;
        }

        public String textOr(String name, String fallback) {
            JsonNode v = node.get(name);
            return v == null || v.isNull() ? fallback : v.asText();
        }
    }

    /** Reads up to {@code max} records (0 = all), skipping blank lines. */
    public static List<Line> read(Path file, int max) {
        if (!Files.isRegularFile(file)) {
            throw new Think4jException("jsonl file not found: " + file);
        }
        List<Line> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String s;
            int n = 0;
            while ((s = r.readLine()) != null) {
                n++;
                if (s.isBlank()) {
                    continue;
                }
                out.add(new Line(file, n, parse(s, file, n)));
                if (max > 0 && out.size() >= max) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new Think4jException("cannot read " + file + ": " + e.getMessage());
        }
        if (out.isEmpty()) {
            throw new Think4jException(file + " has no records");
        }
        return out;
    }

    static JsonNode parse(String s, Path file, int line) {
        JsonNode node;
        try {
            node = MAPPER.readTree(s);
        } catch (JsonProcessingException e) {
            throw new Think4jException(file + ":" + line + ": malformed JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null || !node.isObject()) {
            throw new Think4jException(file + ":" + line + ": expected a JSON object");
        }
        return node;
    }
}
