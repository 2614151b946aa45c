package dev.think4j.kv;

/**
 * Turns dense rows (already narrowed to their kept channels) into a physical store.
 * The float encoder keeps float32 rows; quantizers (KIVI, q8_0, q4_0) provide their own.
 */
public interface SegmentEncoder {
    KeyStore encodeKeys(float[][] rows, int width);

    ValueStore encodeValues(float[][] rows, int width);

    /** True when flushed rows may be appended to the last segment's stores instead of a new segment. */
    default boolean appendable() {
        return false;
    }

    /** The key store class this encoder produces (to recognise a segment it may append to). */
    default Class<?> keyStoreClass() {
        return FloatKeyBlocks.class;
    }

    SegmentEncoder FLOAT = new SegmentEncoder() {
        @Override
        public KeyStore encodeKeys(float[][] rows, int width) {
            return FloatKeyBlocks.of(rows, width);
        }

        @Override
        public ValueStore encodeValues(float[][] rows, int width) {
            return rowsOf(rows, width);
        }

        private FloatRows rowsOf(float[][] rows, int width) {
            FloatRows r = new FloatRows(width, rows.length);
            for (float[] row : rows) {
                r.append(row, 0);
            }
            return r;
        }

        @Override
        public boolean appendable() {
            return true;
        }

        @Override
        public String toString() {
            return "float32";
        }
    };
}
