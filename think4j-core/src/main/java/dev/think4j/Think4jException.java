package dev.think4j;

/**
 * An error caused by the user's input (file, flag, prompt, request), not by a bug.
 * The CLI prints its message as one line on stderr and exits non-zero, without a stack trace.
 */
public class Think4jException extends RuntimeException {
    public Think4jException(String message) {
        super(message);
    }

    public Think4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
