package dev.think4j.gguf;

import dev.think4j.Think4jException;

/** The file is not a valid or supported GGUF file. */
public final class GgufFormatException extends Think4jException {
    public GgufFormatException(String message) {
        super(message);
    }
}
