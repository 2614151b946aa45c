package dev.think4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntFunction;

/**
 * Turns token bytes into text as it becomes complete: bytes of a character split over several byte
 * tokens are held back until the character is whole, so no broken UTF-8 is ever emitted.
 */
final class Utf8StreamingDecoder implements StreamingDecoder {
    private final IntFunction<byte[]> bytesOf;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    Utf8StreamingDecoder(IntFunction<byte[]> bytesOf) {
        this.bytesOf = bytesOf;
    }

    @Override
    public String push(int id) {
        pending.writeBytes(bytesOf.apply(id));
        byte[] b = pending.toByteArray();
        int complete = completePrefix(b);
        if (complete == 0) {
            return "";
        }
        pending.reset();
        pending.write(b, complete, b.length - complete);
        return new String(b, 0, complete, StandardCharsets.UTF_8);
    }

    @Override
    public String flush() {
        byte[] b = pending.toByteArray();
        pending.reset();
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Length of the longest prefix that does not end inside a multi-byte sequence. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // look back at most 3 bytes for the start of an unfinished sequence
        for (int back = 1; back <= Math.min(4, n); back++) {
            int c = b[n - back] & 0xff;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte
            }
            int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}
