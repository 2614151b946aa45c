package dev.think4j.kv;

/**
 * How compressed tokens of one (layer, KV head) are stored: it turns dense rows (already narrowed to
 * their kept channels) into a key store and a value store, and says, in its type, what those stores
 * can do afterwards: take more rows in place ({@link #append}), and drop single tokens
 * ({@link #dropsTokens}, needed by decode-time eviction and checked when a spec is parsed).
 *
 * @param <K> the key store this format makes
 * @param <V> the value store this format makes
 */
public interface StoreFormat<K extends KeyStore, V extends ValueStore> {
    K encodeKeys(float[][] rows, int width);

    V encodeValues(float[][] rows, int width);

    /**
     * Appends rows to stores of this format in place (so decode-time flushes grow the last segment
     * instead of adding one per flush); false when the format cannot, and a new segment is made.
     */
    default boolean append(K keys, V values, float[][] keyRows, float[][] valueRows) {
        return false;
    }

    /** True when {@link #retain} works: stores of this format can lose single tokens. */
    default boolean dropsTokens() {
        return false;
    }

    /** Keeps only the rows at the given increasing indices (only when {@link #dropsTokens()}). */
    default void retain(K keys, V values, int[] rows) {
        throw new UnsupportedOperationException(this + " cannot drop single tokens");
    }

    /** How the format is named in messages, e.g. "KIVI groups". */
    String description();

    /** Dense float32 rows, the storage of pruned-only and evicted caches. */
    StoreFormat<FloatKeyBlocks, FloatRows> FLOAT = new StoreFormat<>() {
        @Override
        public FloatKeyBlocks encodeKeys(float[][] rows, int width) {
            return FloatKeyBlocks.of(rows, width);
        }

        @Override
        public FloatRows encodeValues(float[][] rows, int width) {
            FloatRows r = new FloatRows(width, rows.length);
            r.appendRows(rows);
            return r;
        }

        @Override
        public boolean append(FloatKeyBlocks keys, FloatRows values, float[][] keyRows, float[][] valueRows) {
            keys.appendRows(keyRows);
            values.appendRows(valueRows);
            return true;
        }

        @Override
        public boolean dropsTokens() {
            return true;
        }

        @Override
        public void retain(FloatKeyBlocks keys, FloatRows values, int[] rows) {
            keys.retain(rows);
            values.retain(rows);
        }

        @Override
        public String description() {
            return "float32 rows";
        }

        @Override
        public String toString() {
            return "float32";
        }
    };
}
