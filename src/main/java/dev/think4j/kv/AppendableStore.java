package dev.think4j.kv;

/** A store that can take more rows in place, so per-token flushes do not create one segment per token. */
public interface AppendableStore {
    void appendRow(float[] row);
}
