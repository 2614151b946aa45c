package dev.think4j.kv;

/** Cached values of one (layer, KV head) segment; width may be below the head dimension after pruning. */
public interface ValueStore extends Releasable {
    int tokens();

    int width();

    /** out[outOff + c] += sum over t of p[pOff + t] * value_t[c] for the stored channels c. */
    void accumulate(float[] p, int pOff, float[] out, int outOff);

    /**
     * {@link #accumulate} for {@code np} weight rows sharing this KV head: row i's weights are at
     * p[pOff + i * pStride ..] and its sums go to out[outOff + i * outStride ..].
     */
    default void accumulate(float[] p, int pOff, int pStride, int np, float[] out, int outOff, int outStride) {
        for (int i = 0; i < np; i++) {
            accumulate(p, pOff + i * pStride, out, outOff + i * outStride);
        }
    }

    long bytes();

    void row(int t, float[] out, int outOff);
}
