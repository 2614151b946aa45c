package dev.think4j.kv;

import dev.think4j.Think4jException;
import java.util.ArrayList;
import java.util.List;

/**
 * Tags and dispatch for saving a cache's state as it is stored (session files). Each store writes
 * and reads its own bytes; this class only says which kind comes next: store classes, the store
 * formats of a policy (by the index of the press that owns them, so a loaded cache shares the
 * format instances its policy would use), and decode rules with their per-head state.
 */
final class KvStateCodec {
    private KvStateCodec() {
    }

    private static final int FLOAT_KEYS = 1;
    private static final int FLOAT_ROWS = 2;
    private static final int BLOCK_KEYS = 3;
    private static final int BLOCK_ROWS = 4;
    private static final int KIVI_KEYS = 5;
    private static final int KIVI_VALUES = 6;

    static void writeKeys(StateWriter out, KeyStore k) {
        switch (k) {
            case FloatKeyBlocks f -> {
                out.u8(FLOAT_KEYS);
                f.write(out);
            }
            case BlockQuantKeys b -> {
                out.u8(BLOCK_KEYS);
                b.write(out);
            }
            case KiviStores.Keys q -> {
                out.u8(KIVI_KEYS);
                q.write(out);
            }
            default -> throw new Think4jException("cannot save a KV cache holding keys in " + k.getClass().getSimpleName());
        }
    }

    static void writeValues(StateWriter out, ValueStore v) {
        switch (v) {
            case FloatRows f -> {
                out.u8(FLOAT_ROWS);
                f.write(out);
            }
            case BlockQuantStore b -> {
                out.u8(BLOCK_ROWS);
                b.write(out);
            }
            case KiviStores.Values q -> {
                out.u8(KIVI_VALUES);
                q.write(out);
            }
            default -> throw new Think4jException("cannot save a KV cache holding values in " + v.getClass().getSimpleName());
        }
    }

    static KeyStore readKeys(StateReader in, int maxWidth) {
        int tag = in.u8();
        return switch (tag) {
            case FLOAT_KEYS -> FloatKeyBlocks.read(in, maxWidth);
            case BLOCK_KEYS -> BlockQuantKeys.read(in, maxWidth);
            case KIVI_KEYS -> KiviStores.Keys.read(in, maxWidth);
            default -> throw in.corrupt("unknown key store kind " + tag);
        };
    }

    static ValueStore readValues(StateReader in, int maxWidth) {
        int tag = in.u8();
        return switch (tag) {
            case FLOAT_ROWS -> FloatRows.read(in, maxWidth);
            case BLOCK_ROWS -> BlockQuantStore.read(in, maxWidth);
            case KIVI_VALUES -> KiviStores.Values.read(in, maxWidth);
            default -> throw in.corrupt("unknown value store kind " + tag);
        };
    }

    /** The formats a policy can produce: index 0 is float32, then each press's format in order. */
    static List<StoreFormat<?, ?>> formats(KvPolicy policy) {
        List<StoreFormat<?, ?>> out = new ArrayList<>();
        out.add(StoreFormat.FLOAT);
        for (KvPress p : policy.presses()) {
            p.format().ifPresent(out::add);
        }
        return out;
    }

    static int formatIndex(List<StoreFormat<?, ?>> formats, StoreFormat<?, ?> f) {
        for (int i = 0; i < formats.size(); i++) {
            if (formats.get(i) == f) {
                return i;
            }
        }
        // a press prepared for one compression point may carry its own instance of the same format
        for (int i = 0; i < formats.size(); i++) {
            if (formats.get(i).toString().equals(f.toString())) {
                return i;
            }
        }
        throw new Think4jException("cannot save a KV cache stored as " + f.description() + ": its policy has no such format");
    }

    static StoreFormat<?, ?> readFormat(StateReader in, List<StoreFormat<?, ?>> formats) {
        int i = in.u8();
        if (i >= formats.size()) {
            throw in.corrupt("store format " + i + " of a policy with " + formats.size());
        }
        return formats.get(i);
    }

    private static final int FLUSH_EVERY = 1;
    private static final int FLUSH_GROUPS = 2;
    private static final int FLUSH_ALL = 3;
    private static final int DROP_OLDEST = 4;
    private static final int HEAVY_HITTERS = 5;

    static void writeRule(StateWriter out, DecodeRule r) {
        switch (r) {
            case ThinkPress.FlushEvery f -> out.u8(FLUSH_EVERY).i32(f.every()).i32(f.window());
            case KiviPress.FlushGroups f -> out.u8(FLUSH_GROUPS).i32(f.group()).i32(f.residual());
            case BlockQuantPress.FlushAll f -> out.u8(FLUSH_ALL);
            case StreamingLlm.DropOldest d -> out.u8(DROP_OLDEST).i32(d.sinks()).i32(d.recent());
            case H2o.HeavyHitters h -> {
                out.u8(HEAVY_HITTERS);
                h.write(out);
            }
            default -> throw new Think4jException("cannot save a KV cache whose decode rule " + r.getClass().getSimpleName()
                    + " has no saved form");
        }
    }

    static DecodeRule readRule(StateReader in) {
        int tag = in.u8();
        return switch (tag) {
            case FLUSH_EVERY -> new ThinkPress.FlushEvery(in.count("flush interval", 1, Integer.MAX_VALUE),
                    in.count("flush window", 0, Integer.MAX_VALUE));
            case FLUSH_GROUPS -> new KiviPress.FlushGroups(in.count("KIVI group", 1, Integer.MAX_VALUE),
                    in.count("KIVI residual", 0, Integer.MAX_VALUE));
            case FLUSH_ALL -> new BlockQuantPress.FlushAll();
            case DROP_OLDEST -> new StreamingLlm.DropOldest(in.count("sinks", 0, Integer.MAX_VALUE),
                    in.count("recent window", 1, Integer.MAX_VALUE));
            case HEAVY_HITTERS -> H2o.HeavyHitters.read(in);
            default -> throw in.corrupt("unknown decode rule kind " + tag);
        };
    }
}
