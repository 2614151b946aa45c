package dev.think4j.api;

/**
 * What a streaming generation reports, in order: a {@link Token} for every generated token, a
 * {@link Text} whenever text becomes final, and one {@link Completed} last. Text is held back while it
 * could still be the start of a stop string or is an unfinished UTF-8 character, so the texts do not
 * line up one to one with the tokens; concatenated they are exactly {@link Generation#text()}.
 */
public sealed interface GenerationEvent permits GenerationEvent.Token, GenerationEvent.Text, GenerationEvent.Completed {
    /**
     * A generated token.
     *
     * @param id    its id in the model's vocabulary
     * @param index its position among the generated tokens, from 0
     */
    record Token(int id, int index) implements GenerationEvent {
    }

    /**
     * Text that is now final.
     *
     * @param text a non-empty piece of the generated text
     */
    record Text(String text) implements GenerationEvent {
    }

    /**
     * The end of the generation.
     *
     * @param result the whole result, as the blocking call returns it
     */
    record Completed(Generation result) implements GenerationEvent {
    }
}
