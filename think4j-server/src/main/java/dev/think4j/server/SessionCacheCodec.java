package dev.think4j.server;

import dev.think4j.Think4jException;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvSpec;
import dev.think4j.kv.session.ModelIdentity;
import dev.think4j.kv.session.SessionFile;
import dev.think4j.kv.session.SessionFiles;
import dev.think4j.model.Model;

/**
 * The session file format (versioned, CRC32C-checked, model and spec checked) as the bytes replicas
 * exchange: a value in the store is exactly what {@code Session.save} writes to a file.
 */
final class SessionCacheCodec implements CacheCodec {
    private final Model model;
    private final String fingerprint;

    private SessionCacheCodec(Model model) {
        this.model = model;
        this.fingerprint = ModelIdentity.of(model).fingerprint();
    }

    static SessionCacheCodec of(Model model) {
        return new SessionCacheCodec(model);
    }

    @Override
    public String version() {
        return "session-" + SessionFiles.FORMAT_VERSION;
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public byte[] encode(int[] ids, CompressedKvCache cache) {
        return SessionFiles.toBytes(model, cache, ids);
    }

    @Override
    public Decoded decode(byte[] bytes, String kvSpec) {
        CompressedKvCache cache = null;
        try {
            SessionFile f = SessionFiles.fromBytes(bytes, "a cache from the kv store");
            f.checkModel(model);
            f.checkSpec(kvSpec);
            cache = model.newCache(KvSpec.parse(kvSpec));
            f.restoreInto(model, cache);
            return new Decoded(f.tokens(), cache);
        } catch (Think4jException | IllegalStateException | IndexOutOfBoundsException | IllegalArgumentException e) {
            if (cache != null) {
                cache.clear();
            }
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
