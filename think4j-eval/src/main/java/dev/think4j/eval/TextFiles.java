package dev.think4j.eval;

import dev.think4j.Think4jException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads user-given text files, with a plain message when the file is binary or not UTF-8. */
public final class TextFiles {
    private TextFiles() {
    }

    /** The file's text; a file that is missing, a folder, not UTF-8 or holds NUL bytes is a user error. */
    public static String readUtf8(Path file) {
        if (Files.isDirectory(file)) {
            throw new Think4jException(file + " is a directory, not a text file");
        }
        if (!Files.exists(file)) {
            throw new Think4jException("text file not found: " + file);
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new Think4jException("cannot read " + file + ": " + e.getMessage());
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new Think4jException(file + " is not UTF-8 text (a binary file?); give a plain text file");
        }
        // valid UTF-8 can still be binary (zero padding, packed integers): text files have no NULs
        if (text.indexOf('\0') >= 0) {
            throw new Think4jException(file + " contains NUL bytes: it is a binary file, not text; give a plain text file");
        }
        return text;
    }
}
