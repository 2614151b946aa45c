package dev.think4j.tokenizer;

import java.util.List;

/**
 * For models without a chat template (e.g. stories260K): the turns' texts, one per line, with no
 * role markers, so "chat" continues the running text.
 */
final class PlainChatFormat implements ChatFormat {
    private final Tokenizer tokenizer;

    PlainChatFormat(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public String name() {
        return "plain";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            if (m.role().equals("system")) {
                continue;
            }
            if (sb.length() > 0 && m.role().equals("user")) {
                sb.append('\n');
            }
            sb.append(m.content());
        }
        return sb.toString();
    }

    @Override
    public int[] stopTokens() {
        return new int[0];
    }

    @Override
    public boolean addBos() {
        return true;
    }
}
