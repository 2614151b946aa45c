package dev.think4j.api;

import dev.think4j.generate.StopReason;

/** Why a generation ended. */
public enum FinishReason {
    /** The model produced an end-of-text or end-of-turn token. */
    END_OF_TEXT,
    /** One of the stop strings appeared (the text ends before it). */
    STOP_STRING,
    /** The maximum number of tokens was generated. */
    MAX_TOKENS,
    /** The context was full. */
    CONTEXT_FULL,
    /** The caller cancelled it, or the model was closed meanwhile. */
    CANCELLED;

    static FinishReason of(StopReason r) {
        return switch (r) {
            case EOS -> END_OF_TEXT;
            case STOP -> STOP_STRING;
            case LENGTH -> MAX_TOKENS;
            case CONTEXT -> CONTEXT_FULL;
            case CANCELLED -> CANCELLED;
        };
    }
}
