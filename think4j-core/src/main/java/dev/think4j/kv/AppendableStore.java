package dev.think4j.kv;

/**
 * A store that can take more rows in place, so decode-time flushes grow the last segment instead
 * of adding one segment per flush (which would cost a call and a few objects per flush for the
 * rest of the generation). KIVI keys take whole quantization groups only.
 */
public interface AppendableStore {
    void appendRows(float[][] rows);
}
