package dev.think4j.tokenizer;

import java.util.List;

/**
 * Mistral instruct ({@code <s>[INST]user[/INST]assistant</s>}); the system prompt is prepended to
 * the last user message, as Mistral's templates do.
 */
final class MistralChatFormat implements ChatFormat {
    private final Tokenizer tokenizer;

    MistralChatFormat(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public String name() {
        return "mistral";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        String system = null;
        int start = 0;
        if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
            system = messages.get(0).content();
            start = 1;
        }
        int lastUser = -1;
        for (int i = start; i < messages.size(); i++) {
            if (messages.get(i).role().equals("user")) {
                lastUser = i;
            }
        }
        String bos = tokenizer.bos() >= 0 ? tokenizer.tokenText(tokenizer.bos()) : "";
        String eos = tokenizer.eos() >= 0 ? tokenizer.tokenText(tokenizer.eos()) : "";
        StringBuilder sb = new StringBuilder(bos);
        for (int i = start; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m.role().equals("user")) {
                sb.append("[INST]");
                if (i == lastUser && system != null) {
                    sb.append(system).append("\n\n");
                }
                sb.append(m.content()).append("[/INST]");
            } else if (m.role().equals("assistant")) {
                sb.append(m.content()).append(eos);
            }
        }
        return sb.toString();
    }

    @Override
    public int[] stopTokens() {
        return ChatFormat.ids(tokenizer, "</s>");
    }

    @Override
    public boolean addBos() {
        return false;
    }
}
