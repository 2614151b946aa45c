package dev.think4j.kv;

/**
 * KIVI 2/4-bit KV quantization: keys per channel in groups of G tokens, values per token in groups
 * of G channels, asymmetric. The most recent R tokens stay full precision; as generation proceeds,
 * whole groups of G tokens move from the tail into quantized storage.
 */
public final class KiviPress implements KvPress {
    private final int bits;
    private final int group;
    private final int residual;
    private final SegmentEncoder encoder;

    public KiviPress(int bits, int group, int residual) {
        this.bits = bits;
        this.group = group;
        this.residual = residual;
        this.encoder = new SegmentEncoder() {
            @Override
            public KeyStore encodeKeys(float[][] rows, int width) {
                return new KiviStores.Keys(rows, width, group, bits);
            }

            @Override
            public ValueStore encodeValues(float[][] rows, int width) {
                return new KiviStores.Values(rows, width, group, bits);
            }

            @Override
            public boolean appendable() {
                return true;
            }

            @Override
            public Class<?> keyStoreClass() {
                return KiviStores.Keys.class;
            }

            @Override
            public String toString() {
                return "kivi" + bits;
            }
        };
    }

    static KiviPress parse(SpecArgs a) {
        a.maxPositional(1);
        a.allowOnly("group", "residual");
        int bits = a.integer(0);
        if (bits != 2 && bits != 4) {
            throw a.error("KIVI bits must be 2 or 4, got " + bits);
        }
        int group = a.integer("group", 32);
        int residual = a.integer("residual", 128);
        if (group < 1 || residual < 0) {
            throw a.error("need group >= 1 and residual >= 0");
        }
        return new KiviPress(bits, group, residual);
    }

    @Override
    public Stage stage() {
        return Stage.QUANTIZE;
    }

    @Override
    public String spec() {
        return "kivi:" + bits + (group != 32 ? ",group=" + group : "") + (residual != 128 ? ",residual=" + residual : "");
    }

    /**
     * Quantizes the oldest whole groups outside the most recent R tokens. When a pruning press ran
     * first, tokens inside the residual but outside its full-width window stay pruned floats.
     */
    @Override
    public void compress(HeadCompression h) {
        int n = h.keptTokens().length;
        int fullWidth = h.compressionRequested() ? h.fullWidthTail() : -1;
        int quantized = Math.max(0, n - Math.max(residual, Math.max(fullWidth, 0))) / group * group;
        h.requireFullWidthTail(fullWidth >= 0 ? fullWidth : n - quantized);
        h.setEncodedPrefix(quantized);
        h.setEncoder(encoder);
    }

    @Override
    public void afterToken(HeadCache head, int generated) {
        if (head.encoder() != encoder) {
            return;
        }
        while (head.tailLength() - residual >= group) {
            head.flush(group);
        }
    }
}
