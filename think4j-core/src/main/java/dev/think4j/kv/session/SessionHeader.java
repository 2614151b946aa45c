package dev.think4j.kv.session;

import dev.think4j.kv.StateReader;
import dev.think4j.kv.StateWriter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a session file says about itself before its cache is decoded: the model it belongs to, the
 * {@code --kv} spec its cache was compressed with, how many token ids it holds, the cache's RoPE
 * position, when it was saved (milliseconds since the epoch), and what the application stored
 * with it ({@code extras}: e.g. a chat's messages, so the conversation can be rendered again).
 */
public record SessionHeader(ModelIdentity model, String kvSpec, int tokenCount, int position, long savedAtMillis,
                            Map<String, String> extras) {
    public SessionHeader {
        extras = Collections.unmodifiableMap(new LinkedHashMap<>(extras));
    }

    void write(StateWriter out) {
        model.write(out);
        out.string(kvSpec).i32(tokenCount).i32(position).i64(savedAtMillis);
        out.i32(extras.size());
        extras.forEach((k, v) -> out.string(k).string(v));
    }

    static SessionHeader read(StateReader in) {
        ModelIdentity m = ModelIdentity.read(in);
        String spec = in.string();
        int tokens = in.count("token count", 0, Integer.MAX_VALUE);
        int position = in.count("position", 0, Integer.MAX_VALUE);
        long saved = in.i64();
        int n = in.count("extras", 0, in.remaining() / 8);
        Map<String, String> extras = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            extras.put(in.string(), in.string());
        }
        return new SessionHeader(m, spec, tokens, position, saved, extras);
    }
}
