package dev.think4j.tokenizer;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * SentencePiece-BPE as GGUF {@code llama} vocabularies use it: spaces become U+2581 (with a dummy
 * space in front), characters are merged pairwise by highest token score, and pieces that are not
 * in the vocabulary fall back to byte tokens {@code <0xXX>}.
 */
final class SpmTokenizer extends AbstractTokenizer {
    private static final char SPACE = '\u2581';
    private final int[] byteTokens = new int[256];

    SpmTokenizer(GgufFile gguf) {
        super(new Vocabulary(gguf, true));
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = vocab.id(String.format("<0x%02X>", b));
        }
        for (int id = 0; id < vocab.tokens.length; id++) {
            if (vocab.types[id] == Vocabulary.BYTE && byteValue(vocab.tokens[id]) < 0) {
                throw new Think4jException(gguf.path() + ": token " + id + " '" + GgufFile.printable(vocab.tokens[id])
                        + "' has type BYTE (6) but its text is not of the form <0xNN>");
            }
        }
    }

    /** The byte a {@code <0xNN>} token stands for, or -1 when the text has another form. */
    private static int byteValue(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(t.charAt(3), 16);
        int lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    @Override
    protected void encodeFragment(String text, boolean first, List<Integer> out) {
        if (text.isEmpty()) {
            return;
        }
        String s = (first && vocab.addSpacePrefix ? " " : "") + text;
        s = s.replace(' ', SPACE);
        // symbols as a doubly linked list over code points
        int[] cps = s.codePoints().toArray();
        int n = cps.length;
        String[] sym = new String[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            sym[i] = new String(cps, i, 1);
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) {
            tryAdd(queue, sym, i, i + 1);
        }
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            // stale: one side was merged away or changed since this pair was queued
            if (sym[bg.left] == null || sym[bg.right] == null || next[bg.left] != bg.right
                    || !(sym[bg.left] + sym[bg.right]).equals(bg.text)) {
                continue;
            }
            sym[bg.left] = bg.text;
            sym[bg.right] = null;
            next[bg.left] = next[bg.right];
            if (next[bg.right] >= 0) {
                prev[next[bg.right]] = bg.left;
            }
            if (prev[bg.left] >= 0) {
                tryAdd(queue, sym, prev[bg.left], bg.left);
            }
            if (next[bg.left] >= 0) {
                tryAdd(queue, sym, bg.left, next[bg.left]);
            }
        }
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            int id = vocab.id(sym[i]);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            for (byte b : sym[i].getBytes(StandardCharsets.UTF_8)) {
                int bt = byteTokens[b & 0xff];
                if (bt < 0 && vocab.unk < 0) {
                    throw new Think4jException(String.format("cannot encode the byte 0x%02X: the vocabulary has neither "
                            + "<0x%02X> nor an unknown token", b & 0xff, b & 0xff));
                }
                out.add(bt >= 0 ? bt : vocab.unk);
            }
        }
    }

    /** A candidate merge of two adjacent symbols; {@code text} detects entries made stale by other merges. */
    private record Bigram(int left, int right, float score, String text) {
    }

    private void tryAdd(PriorityQueue<Bigram> queue, String[] sym, int left, int right) {
        String merged = sym[left] + sym[right];
        int id = vocab.id(merged);
        if (id >= 0) {
            queue.add(new Bigram(left, right, vocab.scores[id], merged));
        }
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= vocab.tokens.length) {
            return new byte[0];
        }
        int type = vocab.types[id];
        if (type == Vocabulary.CONTROL || type == Vocabulary.UNKNOWN && vocab.tokens[id].equals("<unk>")) {
            return new byte[0];
        }
        if (type == Vocabulary.BYTE) {
            return new byte[] {(byte) byteValue(vocab.tokens[id])};
        }
        return vocab.tokens[id].replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean first = true;
        for (int id : ids) {
            byte[] b = tokenBytes(id);
            if (b.length == 0) {
                continue;
            }
            // the dummy prefix space added by encode is not part of the text
            if (first && vocab.addSpacePrefix && b[0] == ' ' && vocab.types[id] != Vocabulary.BYTE) {
                out.write(b, 1, b.length - 1);
            } else {
                out.writeBytes(b);
            }
            first = false;
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
