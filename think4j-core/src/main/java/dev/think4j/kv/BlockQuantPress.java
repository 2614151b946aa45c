package dev.think4j.kv;

import dev.think4j.gguf.GgmlType;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Block-quantized KV cache (q8_0 / q4_0), the baselines llama.cpp users know: every token except
 * those a pruning press keeps full width is stored quantized, including generated tokens, which are
 * appended after each step.
 */
public final class BlockQuantPress implements KvPress {
    private final GgmlType type;
    private final StoreFormat<BlockQuantKeys, BlockQuantStore> format;

    public BlockQuantPress(GgmlType type) {
        this.type = type;
        this.format = new StoreFormat<>() {
            @Override
            public BlockQuantKeys encodeKeys(float[][] rows, int width) {
                BlockQuantKeys k = new BlockQuantKeys(type, width, rows.length);
                k.appendRows(rows);
                return k;
            }

            @Override
            public BlockQuantStore encodeValues(float[][] rows, int width) {
                BlockQuantStore v = new BlockQuantStore(type, width, rows.length);
                v.appendRows(rows);
                return v;
            }

            @Override
            public boolean append(BlockQuantKeys keys, BlockQuantStore values, float[][] keyRows, float[][] valueRows) {
                keys.appendRows(keyRows);
                values.appendRows(valueRows);
                return true;
            }

            @Override
            public boolean dropsTokens() {
                return true;
            }

            @Override
            public void retain(BlockQuantKeys keys, BlockQuantStore values, int[] rows) {
                keys.retain(rows);
                values.retain(rows);
            }

            @Override
            public String description() {
                return type.name().toLowerCase(java.util.Locale.ROOT) + " blocks";
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
    public Optional<StoreFormat<?, ?>> format() {
        return Optional.of(format);
    }

    @Override
    public HeadPlan compress(HeadObservation h, HeadPlan plan) {
        return plan.requireFullWidthTail(plan.fullWidthTail().orElse(0))
                .withFormat(format, OptionalInt.empty())
                .withRule(new FlushAll());
    }

    /** Quantizes every generated token except the full-width tail the last compression protected. */
    record FlushAll() implements DecodeRule {
        @Override
        public Step next(HeadStatus head, int generated) {
            int keep = head.protectedTail();
            return head.tailLength() > keep ? new Flush(head.tailLength() - keep) : null;
        }
    }
}
