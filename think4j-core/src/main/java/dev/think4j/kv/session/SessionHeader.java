package dev.think4j.kv.session;

import dev.think4j.kv.StateReader;
import dev.think4j.kv.StateWriter;

/**
 * What a session file says about itself before its cache is decoded: the model it belongs to, the
 * {@code --kv} spec its cache was compressed with, how many token ids it holds, the cache's RoPE
 * position, and when it was saved (milliseconds since the epoch).
 */
public record SessionHeader(ModelIdentity model, String kvSpec, int tokenCount, int position, long savedAtMillis) {
    void write(StateWriter out) {
        model.write(out);
        out.string(kvSpec).i32(tokenCount).i32(position).i64(savedAtMillis);
    }

    static SessionHeader read(StateReader in) {
        ModelIdentity m = ModelIdentity.read(in);
        String spec = in.string();
        int tokens = in.count("token count", 0, Integer.MAX_VALUE);
        int position = in.count("position", 0, Integer.MAX_VALUE);
        return new SessionHeader(m, spec, tokens, position, in.i64());
    }
}
