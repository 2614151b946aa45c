package dev.think4j.kv.session;

import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufTensorInfo;
import dev.think4j.kv.StateReader;
import dev.think4j.kv.StateWriter;
import dev.think4j.model.Model;
import dev.think4j.model.ModelConfig;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Which model a saved cache belongs to: its name and KV geometry (for messages and quick checks)
 * and a fingerprint, a SHA-256 over the GGUF's metadata (which includes the tokenizer), its tensor
 * table (names, shapes, types, offsets) and the first bytes of every tensor's data. Two files that
 * differ only deep inside some weights share a fingerprint; anything that changes the tokenizer,
 * the layout or the start of a tensor (a re-quantization, another fine-tune) does not. Computing it
 * reads the metadata and a few hundred bytes per tensor, so it is cheap even for large models.
 */
public record ModelIdentity(String architecture, String name, int layers, int heads, int kvHeads, int headDim, int vocab,
                            String fingerprint) {
    /** Bytes of each tensor's data included in the fingerprint. */
    private static final int SAMPLE_BYTES = 256;
    private static final Map<GgufFile, String> FINGERPRINTS = Collections.synchronizedMap(new WeakHashMap<>());

    public static ModelIdentity of(Model model) {
        ModelConfig c = model.config();
        GgufFile g = model.gguf();
        return new ModelIdentity(c.architecture(), g.getString("general.name", ""), c.layers(), c.heads(), c.kvHeads(),
                c.headDim(), c.vocabSize(), FINGERPRINTS.computeIfAbsent(g, ModelIdentity::fingerprint));
    }

    /** "llama 'stories260K' (5 layers, 8/4 heads x 8, vocab 512, fingerprint 0123abcd)". */
    public String describe() {
        return architecture + (name.isEmpty() ? "" : " '" + name + "'") + " (" + layers + " layers, " + heads + "/" + kvHeads
                + " heads x " + headDim + ", vocab " + vocab + ", fingerprint " + fingerprint.substring(0, Math.min(12, fingerprint.length())) + ")";
    }

    void write(StateWriter out) {
        out.string(architecture).string(name).i32(layers).i32(heads).i32(kvHeads).i32(headDim).i32(vocab).string(fingerprint);
    }

    static ModelIdentity read(StateReader in) {
        return new ModelIdentity(in.string(), in.string(), in.i32(), in.i32(), in.i32(), in.i32(), in.i32(), in.string());
    }

    private static String fingerprint(GgufFile g) {
        MessageDigest d;
        try {
            d = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        StateWriter w = new StateWriter(1 << 16);
        w.i32(g.version());
        List<String> keys = new ArrayList<>(g.metadata().keySet());
        Collections.sort(keys);
        for (String k : keys) {
            w.string(k);
            value(w, g.metadata().get(k));
            flushInto(d, w);
        }
        for (GgufTensorInfo t : g.tensorList()) {
            w.string(t.name()).i32(t.type().id()).i64(t.offset()).i32(t.shape().length);
            for (long s : t.shape()) {
                w.i64(s);
            }
            MemorySegment data = g.tensorData(t);
            int n = (int) Math.min(SAMPLE_BYTES, data.byteSize());
            byte[] sample = new byte[n];
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, sample, 0, n);
            w.bytes(sample, 0, n);
            flushInto(d, w);
        }
        return HexFormat.of().formatHex(d.digest(), 0, 16);
    }

    private static void flushInto(MessageDigest d, StateWriter w) {
        d.update(w.toByteArray());
        w.reset();
    }

    /** A canonical encoding of one metadata value: a type letter, then the value. */
    private static void value(StateWriter w, Object v) {
        switch (v) {
            case null -> w.u8('n');
            case String s -> w.u8('s').string(s);
            case Boolean b -> w.u8('b').u8(b ? 1 : 0);
            case Float f -> w.u8('f').i32(Float.floatToRawIntBits(f));
            case Double x -> w.u8('d').i64(Double.doubleToRawLongBits(x));
            case Number n -> w.u8('i').i64(n.longValue());
            case String[] a -> {
                w.u8('S').i32(a.length);
                for (String s : a) {
                    w.string(s);
                }
            }
            case int[] a -> w.u8('I').intArray(a);
            case float[] a -> w.u8('F').floats(a, 0, a.length);
            case long[] a -> {
                w.u8('L').i32(a.length);
                for (long x : a) {
                    w.i64(x);
                }
            }
            case byte[] a -> w.u8('B').i32(a.length).bytes(a, 0, a.length);
            case short[] a -> w.u8('H').i32(a.length).shorts(a, 0, a.length);
            case double[] a -> w.u8('D').i32(a.length).doubles(a, 0, a.length);
            case boolean[] a -> {
                w.u8('Z').i32(a.length);
                for (boolean b : a) {
                    w.u8(b ? 1 : 0);
                }
            }
            case Object[] a -> {
                w.u8('A').i32(a.length);
                for (Object o : a) {
                    value(w, o);
                }
            }
            case List<?> a -> {
                w.u8('A').i32(a.size());
                for (Object o : a) {
                    value(w, o);
                }
            }
            default -> w.u8('?').string(v.getClass().getName()).string(String.valueOf(v));
        }
    }
}
