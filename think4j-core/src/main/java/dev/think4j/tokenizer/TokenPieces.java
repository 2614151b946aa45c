package dev.think4j.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** How one token is shown on its own (tokenize's table, log-probs): its text, readable even when it is only part of a character. */
public final class TokenPieces {
    private TokenPieces() {
    }

    /**
     * The bytes a token is shown by: what it contributes to decoded text, or, for a token that
     * contributes nothing (control tokens such as {@code </s>}), its name.
     */
    public static byte[] bytes(Tokenizer tok, int id) {
        byte[] bytes = tok.tokenBytes(id);
        if (bytes.length == 0 && tok.tokenText(id) != null) {
            bytes = tok.tokenText(id).getBytes(StandardCharsets.UTF_8);
        }
        return bytes;
    }

    /**
     * What a token stands for: its bytes as text (special tokens by their name). Bytes that are
     * only part of a character (byte-fallback and byte-level tokens) are shown as {@code \xNN};
     * for the table, control characters and backslashes are escaped too.
     */
    public static String display(Tokenizer tok, int id, boolean escapeControls) {
        byte[] bytes = bytes(tok, id);
        StringBuilder sb = new StringBuilder();
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer chars = CharBuffer.allocate(bytes.length * 2 + 2);
        while (in.hasRemaining()) {
            CoderResult r = dec.decode(in, chars, true);
            if (r.isError()) {
                appendChars(sb, chars, escapeControls);
                for (int i = 0; i < r.length(); i++) {
                    sb.append(String.format("\\x%02X", in.get() & 0xff));
                }
            } else if (r.isUnderflow()) {
                break;
            }
        }
        dec.flush(chars);
        appendChars(sb, chars, escapeControls);
        return sb.toString();
    }

    private static void appendChars(StringBuilder sb, CharBuffer chars, boolean escapeControls) {
        chars.flip();
        String s = chars.toString();
        chars.clear();
        if (!escapeControls) {
            sb.append(s);
            return;
        }
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                default -> {
                    int type = Character.getType(cp);
                    if (type == Character.CONTROL || type == Character.FORMAT || type == Character.UNASSIGNED
                            || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                        sb.append(cp <= 0xFFFF ? String.format("\\u%04X", cp) : String.format("\\U%08X", cp));
                    } else {
                        sb.appendCodePoint(cp);
                    }
                }
            }
        });
    }
}
