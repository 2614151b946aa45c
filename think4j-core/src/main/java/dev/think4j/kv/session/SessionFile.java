package dev.think4j.kv.session;

import dev.think4j.Think4jException;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import dev.think4j.kv.StateReader;
import dev.think4j.model.Model;

/**
 * A session file that passed the format checks (magic, version, length, checksum): its header and
 * token ids are read, its cache is decoded only when restored, into a cache of the same model and
 * {@code --kv} spec.
 */
public final class SessionFile {
    private final String source;
    private final SessionHeader header;
    private final int[] tokens;
    private final byte[] data;
    private final int cacheOffset;
    private final int cacheLength;

    SessionFile(String source, SessionHeader header, int[] tokens, byte[] data, int cacheOffset, int cacheLength) {
        this.source = source;
        this.header = header;
        this.tokens = tokens;
        this.data = data;
        this.cacheOffset = cacheOffset;
        this.cacheLength = cacheLength;
    }

    public SessionHeader header() {
        return header;
    }

    /** The token ids the saved cache consumed, in order (all turns). */
    public int[] tokens() {
        return tokens.clone();
    }

    /** The file (or bytes) this came from, as named in messages. */
    public String source() {
        return source;
    }

    /** Bytes of the encoded cache state (the bulk of the file). */
    public int cacheBytes() {
        return cacheLength;
    }

    /** Fails with a one-line message naming both models unless the file was saved for {@code model}. */
    public void checkModel(Model model) {
        ModelIdentity here = ModelIdentity.of(model);
        if (!here.equals(header.model())) {
            throw new Think4jException(source + " was saved for model " + header.model().describe()
                    + ", not for the loaded " + here.describe());
        }
    }

    /** A new cache of {@code model} with the file's {@code --kv} spec, holding the saved state. */
    public CompressedKvCache newCache(Model model) {
        checkModel(model);
        KvPolicy policy = policy();
        policy.validate(model.config().layers());
        CompressedKvCache cache = model.newCache(policy);
        restore(cache);
        return cache;
    }

    /**
     * Replaces {@code cache}'s content with the saved state. The cache must belong to {@code model}
     * and use the spec the file was saved with: compressed stores only mean something to the
     * policy that made them (its formats, its decode rules).
     */
    public void restoreInto(Model model, CompressedKvCache cache) {
        checkModel(model);
        checkSpec(cache.policy().spec());
        restore(cache);
    }

    /** Fails unless {@code spec} (canonical or as typed) names the same policy the file was saved with. */
    public void checkSpec(String spec) {
        String mine = policy().spec();
        String theirs = KvSpec.parse(spec).spec();
        if (!mine.equals(theirs)) {
            throw new Think4jException(source + " holds a cache compressed with --kv " + mine + ", not " + theirs
                    + " (leave --kv out to use the file's)");
        }
    }

    /** The policy the file's {@code --kv} spec names. */
    public KvPolicy policy() {
        try {
            return KvSpec.parse(header.kvSpec());
        } catch (Think4jException e) {
            throw new Think4jException(source + " names a --kv spec this think4j does not know: " + e.getMessage());
        }
    }

    private void restore(CompressedKvCache cache) {
        StateReader in = new StateReader(data, cacheOffset, cacheLength, source);
        cache.readState(in);
        in.end();
        if (cache.position() != header.position()) {
            cache.clear();
            throw new Think4jException(source + " is damaged: its cache is at position " + cache.position()
                    + ", its header says " + header.position());
        }
    }
}
