package dev.think4j.kv.session;

import dev.think4j.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A chat's messages as session-file extras ({@code chat.messages} = count, then {@code chat.I.role}
 * and {@code chat.I.content}), so a loaded conversation renders the same prompt and reuses its cache.
 * Shared by {@code think4j chat} and {@code dev.think4j.api.ChatSession}.
 */
public final class ChatTranscript {
    private ChatTranscript() {
    }

    public static Map<String, String> extras(List<ChatMessage> messages) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("chat.messages", Integer.toString(messages.size()));
        for (int i = 0; i < messages.size(); i++) {
            out.put("chat." + i + ".role", messages.get(i).role());
            out.put("chat." + i + ".content", messages.get(i).content());
        }
        return out;
    }

    /** The messages stored by {@link #extras}, or an empty list when there are none (or they are incomplete). */
    public static List<ChatMessage> messages(Map<String, String> extras) {
        List<ChatMessage> out = new ArrayList<>();
        String count = extras.get("chat.messages");
        if (count == null) {
            return out;
        }
        int n;
        try {
            n = Integer.parseInt(count);
        } catch (NumberFormatException e) {
            return out;
        }
        for (int i = 0; i < n; i++) {
            String role = extras.get("chat." + i + ".role");
            String content = extras.get("chat." + i + ".content");
            if (role == null || content == null) {
                return new ArrayList<>();
            }
            out.add(new ChatMessage(role, content));
        }
        return out;
    }
}
