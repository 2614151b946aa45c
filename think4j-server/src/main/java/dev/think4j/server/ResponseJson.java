package dev.think4j.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.generate.StopReason;

/** Builds the OpenAI response, chunk and error objects. */
final class ResponseJson {
    private final ObjectMapper json;
    private final String modelId;
    private final LogprobsJson logprobs;

    ResponseJson(ObjectMapper json, String modelId, dev.think4j.tokenizer.Tokenizer tokenizer) {
        this.json = json;
        this.modelId = modelId;
        this.logprobs = new LogprobsJson(json, tokenizer);
    }

    LogprobsJson logprobs() {
        return logprobs;
    }

    static String finishReason(StopReason r) {
        return switch (r) {
            case EOS, STOP -> "stop";
            case LENGTH, CONTEXT -> "length";
            case CANCELLED -> null;
        };
    }

    ObjectNode error(ApiException e) {
        ObjectNode root = json.createObjectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        err.put("param", e.param());
        err.put("code", e.code());
        return root;
    }

    ObjectNode usage(SequenceHandle.Finished f) {
        ObjectNode u = json.createObjectNode();
        u.put("prompt_tokens", f.promptTokens());
        u.put("completion_tokens", f.completionTokens());
        u.put("total_tokens", f.promptTokens() + f.completionTokens());
        u.putObject("prompt_tokens_details").put("cached_tokens", f.reusedPrefixTokens());
        return u;
    }

    private ObjectNode envelope(String id, String object, long created) {
        ObjectNode root = json.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", modelId);
        root.put("system_fingerprint", "think4j");
        return root;
    }

    ObjectNode completion(String id, long created, String text, SequenceHandle.Finished f) {
        return completion(id, created, text, f, null);
    }

    /** @param logprobs the choice's logprobs object, or null when the request asked for none */
    ObjectNode completion(String id, long created, String text, SequenceHandle.Finished f, ObjectNode logprobs) {
        ObjectNode root = envelope(id, "text_completion", created);
        ObjectNode c = root.putArray("choices").addObject();
        c.put("index", 0);
        c.put("text", text);
        c.set("logprobs", logprobs == null ? json.nullNode() : logprobs);
        c.put("finish_reason", finishReason(f.reason()));
        root.set("usage", usage(f));
        return root;
    }

    ObjectNode completionChunk(String id, long created, String text, StopReason reason) {
        return completionChunk(id, created, text, reason, null);
    }

    ObjectNode completionChunk(String id, long created, String text, StopReason reason, ObjectNode logprobs) {
        ObjectNode root = envelope(id, "text_completion", created);
        ObjectNode c = root.putArray("choices").addObject();
        c.put("index", 0);
        c.put("text", text);
        c.set("logprobs", logprobs == null ? json.nullNode() : logprobs);
        c.put("finish_reason", reason == null ? null : finishReason(reason));
        return root;
    }

    ObjectNode chat(String id, long created, String text, SequenceHandle.Finished f) {
        return chat(id, created, text, f, null);
    }

    ObjectNode chat(String id, long created, String text, SequenceHandle.Finished f, ObjectNode logprobs) {
        ObjectNode root = envelope(id, "chat.completion", created);
        ObjectNode c = root.putArray("choices").addObject();
        c.put("index", 0);
        ObjectNode m = c.putObject("message");
        m.put("role", "assistant");
        m.put("content", text);
        m.putNull("refusal");
        c.set("logprobs", logprobs == null ? json.nullNode() : logprobs);
        c.put("finish_reason", finishReason(f.reason()));
        root.set("usage", usage(f));
        return root;
    }

    /** A chat delta; {@code role} only on the first chunk, {@code reason} only on the last. */
    ObjectNode chatChunk(String id, long created, String role, String text, StopReason reason) {
        return chatChunk(id, created, role, text, reason, null);
    }

    ObjectNode chatChunk(String id, long created, String role, String text, StopReason reason, ObjectNode logprobs) {
        ObjectNode root = envelope(id, "chat.completion.chunk", created);
        ObjectNode c = root.putArray("choices").addObject();
        c.put("index", 0);
        ObjectNode d = c.putObject("delta");
        if (role != null) {
            d.put("role", role);
        }
        if (text != null) {
            d.put("content", text);
        }
        c.set("logprobs", logprobs == null ? json.nullNode() : logprobs);
        c.put("finish_reason", reason == null ? null : finishReason(reason));
        return root;
    }

    /** The usage-only chunk sent last when stream_options.include_usage is set. */
    ObjectNode usageChunk(String id, long created, String object, SequenceHandle.Finished f) {
        ObjectNode root = envelope(id, object, created);
        root.putArray("choices");
        root.set("usage", usage(f));
        return root;
    }

    ObjectNode models(long created) {
        ObjectNode root = json.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        ObjectNode m = data.addObject();
        m.put("id", modelId);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "think4j");
        return root;
    }
}
