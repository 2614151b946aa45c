package dev.think4j.kv;

import dev.think4j.gguf.GgmlType;

/**
 * Block-quantized KV cache (q8_0 / q4_0), the baselines llama.cpp users know: every token except
 * those a pruning press keeps full width is stored quantized, including generated tokens, which are
 * appended after each step.
 */
public final class BlockQuantPress implements KvPress {
    private final GgmlType type;
    private final SegmentEncoder encoder;

    public BlockQuantPress(GgmlType type) {
        this.type = type;
        this.encoder = new SegmentEncoder() {
            @Override
            public KeyStore encodeKeys(float[][] rows, int width) {
                BlockQuantKeys k = new BlockQuantKeys(type, width, rows.length);
                k.appendRows(rows);
                return k;
            }

            @Override
            public ValueStore encodeValues(float[][] rows, int width) {
                BlockQuantStore v = new BlockQuantStore(type, width, rows.length);
                v.appendRows(rows);
                return v;
            }

            @Override
            public boolean appendable() {
                return true;
            }

            @Override
            public Class<?> keyStoreClass() {
                return BlockQuantKeys.class;
            }

            @Override
            public String toString() {
                return type.name().toLowerCase(java.util.Locale.ROOT);
            }
        };
    }

    static BlockQuantPress parse(SpecArgs a, GgmlType type) {
        a.maxPositional(0);
        a.allowOnly();
        return new BlockQuantPress(type);
    }

    @Override
    public Stage stage() {
        return Stage.QUANTIZE;
    }

    @Override
    public String spec() {
        return type.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public void compress(HeadCompression h) {
        h.requireFullWidthTail(h.compressionRequested() ? h.fullWidthTail() : 0);
        h.setEncoder(encoder);
    }

    @Override
    public void afterToken(HeadCache head, int generated) {
        if (head.encoder() != encoder) {
            return;
        }
        int keep = Math.max(0, head.protectedTail());
        if (head.tailLength() > keep) {
            head.flush(head.tailLength() - keep);
        }
    }
}
