package dev.think4j.generate;

/** Why generation ended; the lower-case name is what JSON output and the API report. */
public enum StopReason {
    /** The model produced an end-of-generation token. */
    EOS,
    /** A stop string appeared in the text. */
    STOP,
    /** max tokens reached. */
    LENGTH,
    /** The context window is full. */
    CONTEXT,
    /** The caller cancelled (e.g. a client disconnected). */
    CANCELLED;

    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
