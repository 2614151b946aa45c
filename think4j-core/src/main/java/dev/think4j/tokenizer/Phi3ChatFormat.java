package dev.think4j.tokenizer;

import java.util.List;

/**
 * Phi-3 turns: {@code <|system|>\ncontent<|end|>\n<|user|>\n...<|end|>\n<|assistant|>\n}, contents as
 * they are. Phi-3.5's template leaves out an empty system message (Phi-3's renders it); a
 * conversation rendered without a generation prompt ends with the EOS text, as the templates do.
 * Phi-4-mini's template (recognised by having no newline at all) writes the same markers with no
 * newlines and any role's turn: {@code <|user|>content<|end|><|assistant|>}.
 */
final class Phi3ChatFormat implements ChatFormat {
    private final Tokenizer tokenizer;
    private final boolean skipEmptySystem;
    private final boolean compact;

    Phi3ChatFormat(String template, Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.skipEmptySystem = template != null && template.contains("== 'system' and message['content']");
        this.compact = template != null && template.indexOf('\n') < 0 && !template.contains("\\n");
    }

    @Override
    public String name() {
        return compact ? "phi4" : "phi3";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            String role = m.role();
            if (compact) {
                sb.append("<|").append(role).append("|>").append(m.content()).append("<|end|>");
                continue;
            }
            boolean known = role.equals("user") || role.equals("assistant")
                    || role.equals("system") && !(skipEmptySystem && m.content().isEmpty());
            if (known) {
                sb.append("<|").append(role).append("|>\n").append(m.content()).append("<|end|>\n");
            }
        }
        if (addGenerationPrompt) {
            sb.append(compact ? "<|assistant|>" : "<|assistant|>\n");
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
