package dev.think4j.tokenizer;

import dev.think4j.Think4jException;
import java.util.List;

/** Interim contract (replaced by the tokenizer branch): chat template detection and rendering. */
public interface ChatFormat {
    static ChatFormat detect(String jinjaTemplate, Tokenizer tokenizer) {
        throw new Think4jException("chat formats not available in this build yet");
    }

    String name();

    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    int[] stopTokens();

    boolean addBos();
}
