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
        scores(q, qOff, 0, 1, out, outOff, 0, scratch);
    }

    /** out += sum p_t v_t, scattering pruned value channels back to their positions. */
    public void accumulate(float[] p, int pOff, float[] out, int outOff, float[] scratch) {
        accumulate(p, pOff, 0, 1, out, outOff, 0, scratch);
    }

    /**
     * Unscaled logits of {@code nq} queries (query i at q[qOff + i * qStride ..], full head width)
     * for this segment's tokens, into out[outOff + i * outStride + t]. Pruned keys get the queries
     * gathered to the kept channels first; scratch holds at least nq * head dimension floats.
     */
    public void scores(float[] q, int qOff, int qStride, int nq, float[] out, int outOff, int outStride, float[] scratch) {
        if (keyChannels == null) {
            keys.scores(q, qOff, qStride, nq, out, outOff, outStride);
            return;
        }
        int w = keyChannels.length;
        for (int i = 0; i < nq; i++) {
            for (int c = 0; c < w; c++) {
                scratch[i * w + c] = q[qOff + i * qStride + keyChannels[c]];
            }
        }
        keys.scores(scratch, 0, w, nq, out, outOff, outStride);
    }

    /** out_i += sum_t p_i,t v_t for nq weight rows, scattering pruned value channels back. */
    public void accumulate(float[] p, int pOff, int pStride, int np, float[] out, int outOff, int outStride, float[] scratch) {
        if (valueChannels == null) {
            values.accumulate(p, pOff, pStride, np, out, outOff, outStride);
            return;
        }
        int w = valueChannels.length;
        java.util.Arrays.fill(scratch, 0, np * w, 0f);
        values.accumulate(p, pOff, pStride, np, scratch, 0, w);
        for (int i = 0; i < np; i++) {
            for (int c = 0; c < w; c++) {
                out[outOff + i * outStride + valueChannels[c]] += scratch[i * w + c];
            }
        }
    }

    /** Frees both stores' memory outside the heap (see {@link KeyStore#release()}). */
    public void release() {
        keys.release();
        values.release();
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
