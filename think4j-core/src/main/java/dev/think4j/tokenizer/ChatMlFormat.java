package dev.think4j.tokenizer;

import java.util.List;

/**
 * ChatML ({@code <|im_start|>role\ncontent<|im_end|>\n}) as Qwen2.5, Qwen3 and SmolLM3 use it, in
 * the no-tools case. Qwen2.5 inserts its default system prompt when none is given; SmolLM3 opens
 * with a metadata system block (reasoning mode "/think" unless the system prompt says "/no_think").
 */
final class ChatMlFormat implements ChatFormat {
    private final Tokenizer tokenizer;
    private final String defaultSystem;
    private final boolean smolLm3;
    private final String smolThinkInstructions;
    private final String smolPlainInstructions;
    private final String smolMetadata;

    ChatMlFormat(String template, Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.defaultSystem = ChatFormat.literal(template, "'<\\|im_start\\|>system\\\\n([^'<]+)<\\|im_end\\|>\\\\n'");
        this.smolLm3 = template != null && template.contains("## Metadata");
        this.smolThinkInstructions = ChatFormat.literal(template, "reasoning_mode == \"/think\" -%\\}\\s*\\{\\{- \"([^\"]*)\"");
        this.smolPlainInstructions = ChatFormat.literal(template, "\\{%- else -%\\}\\s*\\{\\{- \"(You are a helpful AI assistant[^\"]*)\"");
        String cutoff = ChatFormat.literal(template, "\"(Knowledge Cutoff Date: [^\"]*)\"");
        this.smolMetadata = cutoff == null ? "" : cutoff;
    }

    @Override
    public String name() {
        return smolLm3 ? "chatml-smollm3" : "chatml";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        int start = 0;
        String reasoning = "/think";
        if (smolLm3) {
            String custom = null;
            if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
                String s = messages.get(0).content();
                if (s.contains("/no_think")) {
                    reasoning = "/no_think";
                }
                custom = s.replace("/no_think", "").replace("/think", "").stripTrailing();
                start = 1;
            }
            sb.append("<|im_start|>system\n## Metadata\n\n").append(smolMetadata)
                    .append("Reasoning Mode: ").append(reasoning).append("\n\n## Custom Instructions\n\n");
            if (custom != null && !custom.isEmpty()) {
                sb.append(custom).append("\n\n");
            } else if (reasoning.equals("/think") && smolThinkInstructions != null) {
                sb.append(smolThinkInstructions);
            } else if (smolPlainInstructions != null) {
                sb.append(smolPlainInstructions);
            }
            sb.append("<|im_end|>\n");
        } else if (messages.isEmpty() || !messages.get(0).role().equals("system")) {
            if (defaultSystem != null) {
                sb.append("<|im_start|>system\n").append(defaultSystem).append("<|im_end|>\n");
            }
        }
        for (ChatMessage m : messages.subList(start, messages.size())) {
            String content = m.content();
            if (smolLm3 && m.role().equals("assistant")) {
                String prefix = reasoning.equals("/think") ? "" : "<think>\n\n</think>\n";
                content = prefix + content.replaceFirst("^\n+", "");
            }
            sb.append("<|im_start|>").append(m.role()).append('\n').append(content).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            sb.append("<|im_start|>assistant\n");
            if (smolLm3 && !reasoning.equals("/think")) {
                sb.append("<think>\n\n</think>\n");
            }
        }
        return sb.toString();
    }

    @Override
    public int[] stopTokens() {
        return ChatFormat.ids(tokenizer, "<|im_end|>", "<|endoftext|>");
    }

    @Override
    public boolean addBos() {
        return false;
    }
}
