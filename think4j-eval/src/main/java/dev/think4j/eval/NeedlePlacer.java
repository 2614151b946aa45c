package dev.think4j.eval;

import dev.think4j.Think4jException;
import dev.think4j.tokenizer.Tokenizer;

/** Cuts filler text to a token budget and inserts a needle sentence at a relative depth. */
public final class NeedlePlacer {
    private NeedlePlacer() {
    }

    /**
     * The first {@code tokens} tokens of {@code filler} (repeated when too short) with {@code needle}
     * inserted at {@code depth} (0 = start, 1 = end) of that text. The insertion point moves back to
     * the previous sentence end, as the original needle test does, so the needle is not spliced into
     * the middle of a sentence.
     */
    public static String place(Tokenizer tok, String filler, int tokens, String needle, double depth) {
        if (filler.isBlank()) {
            throw new Think4jException("the filler text is empty");
        }
        if (tokens < 1) {
            throw new Think4jException("context budget for the filler text must be >= 1 token, got " + tokens);
        }
        int[] ids = tok.encode(filler, false, false);
        StringBuilder text = new StringBuilder(filler);
        while (ids.length < tokens) {
            text.append("\n\n").append(filler);
            ids = tok.encode(text.toString(), false, false);
        }
        String cut = tok.decode(java.util.Arrays.copyOf(ids, tokens));
        return insert(cut, needle, depth);
    }

    /** Inserts {@code needle} at the last sentence end at or before {@code depth} of the text. */
    public static String insert(String text, String needle, double depth) {
        if (!(depth >= 0 && depth <= 1)) {
            throw new Think4jException("depth must be in [0, 1], got " + depth);
        }
        if (depth >= 1) {
            return text.stripTrailing() + " " + needle;
        }
        int pos = (int) Math.floor(text.length() * depth);
        int at = 0;
        for (int i = Math.min(pos, text.length()) - 1; i >= 0; i--) {
            char c = text.charAt(i);
            if ((c == '.' || c == '!' || c == '?' || c == '\n') && (i + 1 >= text.length() || Character.isWhitespace(text.charAt(i + 1)))) {
                at = i + 1;
                break;
            }
        }
        String before = text.substring(0, at);
        String after = text.substring(at).stripLeading();
        return (before.isEmpty() ? "" : before + " ") + needle + (after.isEmpty() ? "" : " " + after);
    }
}
