package dev.think4j.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A chat prompt format, chosen from the model's {@code tokenizer.chat_template} (or, without one,
 * from its special tokens). Renders a conversation to text that is then encoded with special-token
 * parsing; {@link #addBos()} says whether the encoder should still add BOS (false when the rendered
 * text already starts with it). Template-specific literals (default system prompts, date lines) are
 * read from the model's own template so the rendering follows it.
 */
public interface ChatFormat {
    String name();

    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** Tokens that end an assistant turn in this format. */
    int[] stopTokens();

    boolean addBos();

    static ChatFormat detect(String template, Tokenizer tokenizer) {
        if (template != null) {
            if (template.contains("<|start_header_id|>")) {
                return new Llama3ChatFormat(template, tokenizer);
            }
            if (template.contains("<|im_start|>")) {
                return new ChatMlFormat(template, tokenizer);
            }
            if (template.contains("[INST]")) {
                return new MistralChatFormat(tokenizer);
            }
        }
        if (tokenizer.tokenId("<|start_header_id|>") >= 0) {
            return new Llama3ChatFormat(null, tokenizer);
        }
        if (tokenizer.tokenId("<|im_start|>") >= 0) {
            return new ChatMlFormat(null, tokenizer);
        }
        if (tokenizer.tokenId("[INST]") >= 0) {
            return new MistralChatFormat(tokenizer);
        }
        return new PlainChatFormat(tokenizer);
    }

    /** The first capture of {@code regex} in the template, or null. */
    static String literal(String template, String regex) {
        if (template == null) {
            return null;
        }
        Matcher m = Pattern.compile(regex, Pattern.DOTALL).matcher(template);
        return m.find() ? unescape(m.group(1)) : null;
    }

    /** Jinja string literals use backslash escapes. */
    static String unescape(String s) {
        return s.replace("\\n", "\n").replace("\\t", "\t").replace("\\\"", "\"").replace("\\'", "'");
    }

    static int[] ids(Tokenizer tok, String... names) {
        return java.util.Arrays.stream(names).mapToInt(tok::tokenId).filter(id -> id >= 0).toArray();
    }
}
