package dev.think4j.tokenizer;

import java.util.List;

/**
 * Phi-3 turns: {@code <|system|>\ncontent<|end|>\n<|user|>\n...<|end|>\n<|assistant|>\n}, contents as
 * they are. Phi-3.5's template leaves out an empty system message (Phi-3's renders it); a
 * conversation rendered without a generation prompt ends with the EOS text, as both templates do.
 */
final class Phi3ChatFormat implements ChatFormat {
    private final Tokenizer tokenizer;
    private final boolean skipEmptySystem;

    Phi3ChatFormat(String template, Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.skipEmptySystem = template != null && template.contains("== 'system' and message['content']");
    }

    @Override
    public String name() {
        return "phi3";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            String role = m.role();
            boolean known = role.equals("user") || role.equals("assistant")
                    || role.equals("system") && !(skipEmptySystem && m.content().isEmpty());
            if (known) {
                sb.append("<|").append(role).append("|>\n").append(m.content()).append("<|end|>\n");
            }
        }
        if (addGenerationPrompt) {
            sb.append("<|assistant|>\n");
        } else if (tokenizer.eos() >= 0) {
            sb.append(tokenizer.tokenText(tokenizer.eos()));
        }
        return sb.toString();
    }

    @Override
    public int[] stopTokens() {
        return ChatFormat.ids(tokenizer, "<|end|>", "<|endoftext|>");
    }

    /** The templates do not write BOS; the vocabulary's add_bos_token decides, as in llama.cpp. */
    @Override
    public boolean addBos() {
        return true;
    }
}
