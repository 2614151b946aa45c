package dev.think4j.kv;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * KIVI 2/4-bit KV quantization: keys per channel in groups of G tokens, values per token in groups
 * of G channels, asymmetric. The most recent R tokens stay full precision; as generation proceeds,
 * whole groups of G tokens move from the tail into quantized storage.
 */
public final class KiviPress implements KvPress {
    private final int bits;
    private final int group;
    private final int residual;
    private final StoreFormat<KiviStores.Keys, KiviStores.Values> format;

    public KiviPress(int bits, int group, int residual) {
        this.bits = bits;
        this.group = group;
        this.residual = residual;
        this.format = new StoreFormat<>() {
            @Override
            public KiviStores.Keys encodeKeys(float[][] rows, int width) {
                return new KiviStores.Keys(rows, width, group, bits);
            }

            @Override
            public KiviStores.Values encodeValues(float[][] rows, int width) {
                return new KiviStores.Values(rows, width, group, bits);
            }

            /** Flushes come in whole groups of G tokens, which is what KIVI keys can take. */
            @Override
            public boolean append(KiviStores.Keys keys, KiviStores.Values values, float[][] keyRows, float[][] valueRows) {
                keys.appendRows(keyRows);
                values.appendRows(valueRows);
                return true;
            }

            @Override
            public String description() {
                return "KIVI groups";
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

    @Override
    public Optional<StoreFormat<?, ?>> format() {
        return Optional.of(format);
    }

    /**
     * Quantizes the oldest whole groups outside the most recent R tokens. When a pruning press asked
     * for a full-width tail, tokens inside the residual but outside that tail stay pruned floats.
     */
    @Override
    public HeadPlan compress(HeadObservation h, HeadPlan plan) {
        int n = plan.keptTokens().length;
        int fullWidth = plan.fullWidthTail().orElse(0);
        int quantized = Math.max(0, n - Math.max(residual, fullWidth)) / group * group;
        return plan.requireFullWidthTail(plan.fullWidthTail().orElse(n - quantized))
                .withFormat(format, OptionalInt.of(quantized))
                .withRule(new FlushGroups(group, residual));
    }

    /** Moves whole groups of G tail tokens into quantized storage once more than R + G are waiting. */
    record FlushGroups(int group, int residual) implements DecodeRule {
        @Override
        public Step next(HeadStatus head, int generated) {
            return head.tailLength() - residual >= group ? new Flush(group) : null;
        }
    }
}
