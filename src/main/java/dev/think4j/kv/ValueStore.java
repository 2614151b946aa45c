package dev.think4j.kv;

/** Cached values of one (layer, KV head) segment; width may be below the head dimension after pruning. */
public interface ValueStore {
    int tokens();

    int width();

    /** out[outOff + c] += sum over t of p[pOff + t] * value_t[c] for the stored channels c. */
    void accumulate(float[] p, int pOff, float[] out, int outOff);

    long bytes();

    void row(int t, float[] out, int outOff);
}
