package dev.think4j.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.generate.TokenLogprobs;
import dev.think4j.tokenizer.StreamingDecoder;
import dev.think4j.tokenizer.TokenPieces;
import dev.think4j.tokenizer.Tokenizer;
import java.util.List;

/**
 * The {@code logprobs} objects of OpenAI responses. A token's {@code token} string is its text, with
 * bytes that are only part of a character written {@code \xNN} and control tokens by name; {@code bytes}
 * are the raw bytes behind it.
 */
final class LogprobsJson {
    private final ObjectMapper json;
    private final Tokenizer tokenizer;

    LogprobsJson(ObjectMapper json, Tokenizer tokenizer) {
        this.json = json;
        this.tokenizer = tokenizer;
    }

    /** Chat completions: {@code {"content":[{token, logprob, bytes, top_logprobs:[{token, logprob, bytes}]}], "refusal":null}}. */
    ObjectNode chat(List<TokenLogprobs> tokens) {
        ObjectNode root = json.createObjectNode();
        ArrayNode content = root.putArray("content");
        for (TokenLogprobs t : tokens) {
            ObjectNode o = entry(content.addObject(), t.id(), t.logprob());
            ArrayNode top = o.putArray("top_logprobs");
            for (int i = 0; i < t.topIds().length; i++) {
                entry(top.addObject(), t.topIds()[i], t.topLogprobs()[i]);
            }
        }
        root.putNull("refusal");
        return root;
    }

    private ObjectNode entry(ObjectNode o, int id, double logprob) {
        o.put("token", TokenPieces.display(tokenizer, id, false));
        o.put("logprob", logprob);
        ArrayNode bytes = o.putArray("bytes");
        for (byte b : TokenPieces.bytes(tokenizer, id)) {
            bytes.add(b & 0xff);
        }
        return o;
    }

    /** Per request state for the legacy completions shape: text offsets run on from chunk to chunk. */
    Completion completion() {
        return new Completion();
    }

    final class Completion {
        private final StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        private int offset;

        /**
         * {@code {tokens, token_logprobs, top_logprobs:[{token: logprob}], text_offset}} for the next
         * tokens. {@code text_offset} is where each token's text starts in the completion text (in
         * UTF-16 units, the prompt not included: there is no echo); a token that ends inside a character
         * moves the offset only once the character is complete. As OpenAI does, each top_logprobs map
         * also holds the chosen token when it is not among the top ones.
         */
        ObjectNode next(List<TokenLogprobs> tokens) {
            ObjectNode root = json.createObjectNode();
            ArrayNode strings = root.putArray("tokens");
            ArrayNode logprobs = root.putArray("token_logprobs");
            ArrayNode tops = root.putArray("top_logprobs");
            ArrayNode offsets = root.putArray("text_offset");
            for (TokenLogprobs t : tokens) {
                String token = TokenPieces.display(tokenizer, t.id(), false);
                strings.add(token);
                logprobs.add(t.logprob());
                ObjectNode top = tops.addObject();
                for (int i = 0; i < t.topIds().length; i++) {
                    String s = TokenPieces.display(tokenizer, t.topIds()[i], false);
                    // two ids with the same text (rare) keep the likelier one, which comes first
                    if (!top.has(s)) {
                        top.put(s, t.topLogprobs()[i]);
                    }
                }
                if (!top.has(token)) {
                    top.put(token, t.logprob());
                }
                offsets.add(offset);
                offset += decoder.push(t.id()).length();
            }
            return root;
        }
    }
}
