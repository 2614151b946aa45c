package dev.think4j.tokenizer;

import java.util.List;

/**
 * Llama 3 headers: {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>}. Llama 3.1+
 * templates always open with a system block carrying their knowledge-cutoff and date lines.
 */
final class Llama3ChatFormat implements ChatFormat {
    private final Tokenizer tokenizer;
    private final String systemPreamble;

    Llama3ChatFormat(String template, Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        String cutoff = ChatFormat.literal(template, "\"(Cutting Knowledge Date: [^\"]*)\"");
        String date = ChatFormat.literal(template, "set date_string = \"([^\"]*)\"");
        this.systemPreamble = cutoff == null ? null : cutoff + "Today Date: " + (date == null ? "" : date) + "\n\n";
    }

    @Override
    public String name() {
        return systemPreamble != null ? "llama3.1" : "llama3";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder("<|begin_of_text|>");
        int start = 0;
        if (systemPreamble != null) {
            String system = "";
            if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
                system = messages.get(0).content().strip();
                start = 1;
            }
            sb.append("<|start_header_id|>system<|end_header_id|>\n\n").append(systemPreamble).append(system).append("<|eot_id|>");
        }
        for (ChatMessage m : messages.subList(start, messages.size())) {
            sb.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
                    .append(m.content().strip()).append("<|eot_id|>");
        }
        if (addGenerationPrompt) {
            sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
        return sb.toString();
    }

    @Override
    public int[] stopTokens() {
        return ChatFormat.ids(tokenizer, "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>");
    }

    @Override
    public boolean addBos() {
        return false;
    }
}
