package dev.think4j.kv;

/**
 * A run of cached tokens of one (layer, KV head) stored in one layout. {@code keyChannels} and
 * {@code valueChannels} list the channels kept (null = all): the stores are physically that narrow,
 * the query is gathered once per head, and value output is scattered back to full width.
 */
public record Segment(KeyStore keys, int[] keyChannels, ValueStore values, int[] valueChannels) {

    public Segment {
        if (keys.tokens() != values.tokens()) {
            throw new IllegalArgumentException("keys hold " + keys.tokens() + " tokens, values " + values.tokens());
        }
    }

    public int tokens() {
        return keys.tokens();
    }

    /** Unscaled logits q . k for this segment's tokens; scratch holds at least the head dimension. */
    public void scores(float[] q, int qOff, float[] out, int outOff, float[] scratch) {
        if (keyChannels == null) {
            keys.scores(q, qOff, out, outOff);
            return;
        }
        for (int c = 0; c < keyChannels.length; c++) {
            scratch[c] = q[qOff + keyChannels[c]];
        }
        keys.scores(scratch, 0, out, outOff);
    }

    /** out += sum p_t v_t, scattering pruned value channels back to their positions. */
    public void accumulate(float[] p, int pOff, float[] out, int outOff, float[] scratch) {
        if (valueChannels == null) {
            values.accumulate(p, pOff, out, outOff);
            return;
        }
        java.util.Arrays.fill(scratch, 0, valueChannels.length, 0f);
        values.accumulate(p, pOff, scratch, 0);
        for (int c = 0; c < valueChannels.length; c++) {
            out[outOff + valueChannels[c]] += scratch[c];
        }
    }

    /** Exact bytes: both stores plus the kept-channel index lists (4 bytes per index). */
    public long bytes() {
        long b = keys.bytes() + values.bytes();
        if (keyChannels != null) {
            b += (long) keyChannels.length * Integer.BYTES;
        }
        if (valueChannels != null) {
            b += (long) valueChannels.length * Integer.BYTES;
        }
        return b;
    }
}
