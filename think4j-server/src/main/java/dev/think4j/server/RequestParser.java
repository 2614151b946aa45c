package dev.think4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.Think4jException;
import dev.think4j.generate.TokenLogprobs;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvPress;
import dev.think4j.kv.KvSpec;
import dev.think4j.kv.ThinkPress;
import dev.think4j.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads OpenAI request bodies into {@link ApiRequest}s, rejecting anything out of range with an
 * error that names the offending parameter, before any work is queued.
 */
public final class RequestParser {
    private static final int MAX_STOPS = 4;
    /**
     * Sampling of a request that leaves these out: the same as think4j generate/chat's defaults
     * (and llama.cpp's server), so that one prompt behaves alike on the command line and over HTTP.
     */
    public static final float DEFAULT_TEMPERATURE = 0.8f;
    public static final float DEFAULT_TOP_P = 0.95f;
    public static final int DEFAULT_TOP_K = 40;
    public static final float DEFAULT_MIN_P = 0.05f;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

    private final ObjectMapper json;
    private final String modelId;
    private final int layers;

    /** @param layers the served model's layer count, which per-layer KV settings must match */
    public RequestParser(ObjectMapper json, String modelId, int layers) {
        this.json = json;
        this.modelId = modelId;
        this.layers = layers;
    }

    /**
     * Parses a KV spec and checks it against a model of {@code layers} layers, so a spec that parses
     * but cannot run (a layers= list of the wrong length) is refused up front instead of failing in
     * the middle of a prefill.
     */
    public static KvPolicy kvPolicy(String spec, int layers) {
        KvPolicy policy = KvSpec.parse(spec);
        for (KvPress press : policy.presses()) {
            if (press instanceof ThinkPress think) {
                for (int l = 0; l < layers; l++) {
                    think.keyLambda(l, layers);
                }
            }
        }
        return policy;
    }

    public ApiRequest completion(String body) {
        JsonNode root = object(body);
        JsonNode p = root.get("prompt");
        String prompt = null;
        int[] ids = null;
        if (p == null || p.isNull()) {
            throw ApiException.invalid("'prompt' is required", "prompt", "missing_required_parameter");
        } else if (p.isTextual()) {
            prompt = p.asText();
        } else if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            prompt = p.get(0).asText();
        } else if (p.isArray() && !p.isEmpty() && allInts(p)) {
            ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = p.get(i).asInt();
            }
        } else {
            throw ApiException.invalid("'prompt' must be a string, an array of one string, or an array of token ids"
                    + " (batched prompts are not supported)", "prompt", "invalid_type");
        }
        // the legacy endpoint's logprobs is the number of alternatives (OpenAI allows up to 5; we allow as many as chat)
        Integer logprobs = intParam(root, "logprobs");
        if (logprobs != null) {
            checkTop(logprobs, "logprobs");
        }
        return common(root, prompt, ids, null, logprobs == null ? -1 : logprobs);
    }

    public ApiRequest chat(String body) {
        JsonNode root = object(body);
        JsonNode m = root.get("messages");
        if (m == null || m.isNull()) {
            throw ApiException.invalid("'messages' is required", "messages", "missing_required_parameter");
        }
        if (!m.isArray() || m.isEmpty()) {
            throw ApiException.invalid("'messages' must be a non-empty array", "messages", "invalid_type");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < m.size(); i++) {
            JsonNode msg = m.get(i);
            String where = "messages[" + i + "]";
            if (!msg.isObject()) {
                throw ApiException.invalid(where + " must be an object", where, "invalid_type");
            }
            JsonNode role = msg.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
                throw ApiException.invalid(where + ".role must be one of " + ROLES, where + ".role", "invalid_value");
            }
            String r = role.asText().equals("developer") ? "system" : role.asText();
            messages.add(new ChatMessage(r, content(msg.get("content"), where + ".content")));
        }
        boolean logprobs = boolParam(root, "logprobs");
        Integer top = intParam(root, "top_logprobs");
        if (top != null) {
            checkTop(top, "top_logprobs");
            if (!logprobs) {
                throw ApiException.invalid("top_logprobs requires logprobs: true", "top_logprobs", "invalid_value");
            }
        }
        return common(root, null, null, messages, logprobs ? (top == null ? 0 : top) : -1);
    }

    private static void checkTop(int k, String name) {
        if (k < 0 || k > TokenLogprobs.MAX_TOP) {
            throw ApiException.invalid(name + " must be in 0.." + TokenLogprobs.MAX_TOP + ", got " + k, name, "invalid_value");
        }
    }

    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) {
            throw ApiException.invalid(where + " is required", where, "missing_required_parameter");
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.invalid(where + " parts must be {\"type\":\"text\",\"text\":...}; only text is supported",
                            where, "invalid_value");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiException.invalid(where + " must be a string or an array of text parts", where, "invalid_type");
    }

    private JsonNode object(String body) {
        JsonNode root;
        try {
            root = json.readTree(body == null ? "" : body);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("the request body is not valid JSON: " + e.getOriginalMessage(), null, "invalid_json");
        }
        if (root == null || !root.isObject()) {
            throw ApiException.invalid("the request body must be a JSON object", null, "invalid_json");
        }
        JsonNode model = root.get("model");
        if (model == null || !model.isTextual() || model.asText().isBlank()) {
            throw ApiException.invalid("'model' is required (this server serves '" + modelId + "')", "model",
                    "missing_required_parameter");
        }
        if (!model.asText().equals(modelId)) {
            throw new ApiException(404, "invalid_request_error", "the model '" + model.asText()
                    + "' does not exist; this server serves '" + modelId + "'", "model", "model_not_found");
        }
        return root;
    }

    private ApiRequest common(JsonNode root, String prompt, int[] ids, List<ChatMessage> messages, int logprobs) {
        Integer maxTokens = intParam(root, "max_tokens");
        Integer maxCompletion = intParam(root, "max_completion_tokens");
        if (maxTokens == null) {
            maxTokens = maxCompletion;
        }
        if (maxTokens != null && maxTokens < 1) {
            throw ApiException.invalid("max_tokens must be >= 1, got " + maxTokens, "max_tokens", "invalid_value");
        }
        float temperature = floatParam(root, "temperature", DEFAULT_TEMPERATURE);
        if (!(temperature >= 0 && temperature <= 2)) {
            throw ApiException.invalid("temperature must be in [0, 2], got " + temperature, "temperature", "invalid_value");
        }
        float topP = floatParam(root, "top_p", DEFAULT_TOP_P);
        if (!(topP > 0 && topP <= 1)) {
            throw ApiException.invalid("top_p must be in (0, 1], got " + topP, "top_p", "invalid_value");
        }
        Long seed = null;
        JsonNode s = root.get("seed");
        if (s != null && !s.isNull()) {
            if (!s.isIntegralNumber() || !s.canConvertToLong()) {
                throw ApiException.invalid("seed must be an integer", "seed", "invalid_type");
            }
            seed = s.asLong();
        }
        Integer n = intParam(root, "n");
        if (n != null && n != 1) {
            throw ApiException.invalid("only n=1 is supported, got " + n, "n", "invalid_value");
        }
        boolean stream = boolParam(root, "stream");
        boolean includeUsage = root.path("stream_options").path("include_usage").asBoolean(false);
        String kvSpec = null;
        JsonNode kv = root.get("kv");
        if (kv != null && !kv.isNull()) {
            if (!kv.isTextual()) {
                throw ApiException.invalid("kv must be a KV spec string such as \"think:0.5\"", "kv", "invalid_type");
            }
            try {
                kvSpec = kvPolicy(kv.asText(), layers).spec();
            } catch (Think4jException | IllegalArgumentException e) {
                // The kv library speaks to CLI users; here the spec came in a request field.
                String why = e.getMessage() == null ? e.toString() : e.getMessage().replaceFirst("^invalid --kv: ", "");
                throw ApiException.invalid(why.startsWith("invalid") ? why : "invalid kv spec '" + kv.asText() + "': " + why,
                        "kv", "invalid_kv_spec");
            }
        }
        return new ApiRequest(root.get("model").asText(), prompt, ids, messages, maxTokens, temperature, topP, seed,
                stops(root.get("stop")), stream, includeUsage, kvSpec, logprobs);
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("stop must be a string or an array of strings", "stop", "invalid_type");
                }
                out.add(s.asText());
            }
        } else {
            throw ApiException.invalid("stop must be a string or an array of strings", "stop", "invalid_type");
        }
        if (out.size() > MAX_STOPS) {
            throw ApiException.invalid("at most " + MAX_STOPS + " stop sequences are allowed, got " + out.size(), "stop",
                    "invalid_value");
        }
        return out;
    }

    private static boolean allInts(JsonNode array) {
        for (JsonNode x : array) {
            if (!x.isInt()) {
                return false;
            }
        }
        return true;
    }

    private static Integer intParam(JsonNode root, String name) {
        JsonNode v = root.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiException.invalid(name + " must be an integer", name, "invalid_type");
        }
        return v.asInt();
    }

    private static float floatParam(JsonNode root, String name, float dflt) {
        JsonNode v = root.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw ApiException.invalid(name + " must be a number", name, "invalid_type");
        }
        return (float) v.asDouble();
    }

    private static boolean boolParam(JsonNode root, String name) {
        JsonNode v = root.get(name);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiException.invalid(name + " must be a boolean", name, "invalid_type");
        }
        return v.asBoolean();
    }
}
