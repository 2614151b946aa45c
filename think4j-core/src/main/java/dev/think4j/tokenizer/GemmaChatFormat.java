package dev.think4j.tokenizer;

import dev.think4j.Think4jException;
import java.util.List;

/**
 * Gemma 3 turns: {@code <bos><start_of_turn>user\ncontent<end_of_turn>\n<start_of_turn>model\n...}.
 * As Gemma 3's template does, a system message has no turn of its own: its text and a blank line
 * open the first user turn; contents are trimmed (Python's strip), the assistant role is called
 * {@code model}, and roles after the system message must alternate user/assistant.
 */
final class GemmaChatFormat implements ChatFormat {
    private final Tokenizer tokenizer;

    GemmaChatFormat(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public String name() {
        return "gemma";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder(tokenizer.bos() >= 0 ? tokenizer.tokenText(tokenizer.bos()) : "");
        String firstUserPrefix = "";
        int start = 0;
        if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
            firstUserPrefix = messages.get(0).content() + "\n\n";
            start = 1;
        }
        for (int i = start; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m.role().equals("user") != ((i - start) % 2 == 0)) {
                throw new Think4jException("Conversation roles must alternate user/assistant/user/assistant/... (Gemma's chat template)");
            }
            String role = m.role().equals("assistant") ? "model" : m.role();
            sb.append("<start_of_turn>").append(role).append('\n');
            if (i == start) {
                sb.append(firstUserPrefix);
            }
            sb.append(pythonStrip(m.content())).append("<end_of_turn>\n");
        }
        if (addGenerationPrompt) {
            sb.append("<start_of_turn>model\n");
        }
        return sb.toString();
    }

    /** Jinja's trim is Python's str.strip(): Unicode whitespace, no-break spaces and U+0085 included. */
    static String pythonStrip(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && pythonSpace(s.charAt(from))) {
            from++;
        }
        while (to > from && pythonSpace(s.charAt(to - 1))) {
            to--;
        }
        return s.substring(from, to);
    }

    private static boolean pythonSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    @Override
    public int[] stopTokens() {
        return ChatFormat.ids(tokenizer, "<end_of_turn>", "<eos>");
    }

    @Override
    public boolean addBos() {
        return false;
    }
}
