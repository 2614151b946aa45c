package dev.think4j.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Needle in a haystack: a grid of context lengths x needle depths over a folder of essays. */
public final class NiahTask {
    /** Base-model prompt: the document, then the question, then an answer cue. */
    static final String TEMPLATE = "%s\n\nQuestion: %s Don't give information outside the document or repeat your findings.\nAnswer:";

    private NiahTask() {
    }

    /** All .txt files of the folder, by name, joined by blank lines. */
    public static String haystack(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new Think4jException("haystack folder not found: " + dir);
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".txt")).sorted().toList();
        } catch (IOException e) {
            throw new Think4jException("cannot list " + dir + ": " + e.getMessage());
        }
        StringBuilder sb = new StringBuilder();
        for (Path f : files) {
            try {
                String t = Files.readString(f).strip();
                if (!t.isEmpty()) {
                    sb.append(sb.isEmpty() ? "" : "\n\n").append(t);
                }
            } catch (IOException e) {
                throw new Think4jException("cannot read " + f + ": " + e.getMessage());
            }
        }
        if (sb.isEmpty()) {
            throw new Think4jException("haystack folder " + dir + " has no non-empty .txt files");
        }
        return sb.toString();
    }

    /**
     * One example per (length, depth). A length is the whole prompt in tokens; the check that every
     * prompt plus the answer fits the context happens here, before anything runs.
     */
    public static List<Example> examples(Tokenizer tok, String haystack, Needle needle, List<Integer> lengths,
                                         List<Double> depthsPercent, int maxNew, int contextLength) {
        int overhead = tok.encode(TEMPLATE.formatted(needle.sentence(), needle.question()), true, false).length;
        List<Example> out = new ArrayList<>();
        for (int len : lengths) {
            if (len + maxNew > contextLength) {
                throw new Think4jException("grid length " + len + " plus " + maxNew + " answer tokens exceeds the model context of "
                        + contextLength + " tokens; drop it from --lengths or raise --ctx");
            }
            int filler = len - overhead;
            if (filler < 1) {
                throw new Think4jException("grid length " + len + " is too short: the needle and question alone take " + overhead + " tokens");
            }
            for (double d : depthsPercent) {
                if (!(d >= 0 && d <= 100)) {
                    throw new Think4jException("depth must be a percentage in [0, 100], got " + d);
                }
                String context = NeedlePlacer.place(tok, haystack, filler, needle.sentence(), d / 100);
                ObjectNode meta = Jsonl.MAPPER.createObjectNode();
                meta.put("context_length", len);
                meta.put("depth_percent", d);
                out.add(new Example("len=" + len + ",depth=" + fmt(d), TEMPLATE.formatted(context, needle.question()), maxNew,
                        List.of(), meta, needle::score));
            }
        }
        return out;
    }

    static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
