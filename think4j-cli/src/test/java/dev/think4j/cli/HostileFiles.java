package dev.think4j.cli;

import static dev.think4j.GgufImage.ARRAY;
import static dev.think4j.GgufImage.INT32;
import static dev.think4j.GgufImage.UINT32;
import static dev.think4j.GgufImage.UINT64;
import static dev.think4j.GgufImage.UINT8;

import dev.think4j.GgufImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Hand-made hostile variants of a model file, each with the fragment its error message must
 * contain. Used one by one in {@link HostileFilesTest} and as the fixed part of {@link GgufFuzzTest}.
 */
final class HostileFiles {
    /** A named way to break a file and what the one-line error has to say about it. */
    record Case(String name, Function<GgufImage, byte[]> maker, String expected, boolean checkTensors) {

        byte[] build(GgufImage seed) {
            return maker.apply(seed.copy());
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private HostileFiles() {
    }

    private static Case edit(String name, UnaryOperator<GgufImage> edit, String expected) {
        return new Case(name, img -> edit.apply(img).build(), expected, false);
    }

    private static Case checked(String name, UnaryOperator<GgufImage> edit, String expected) {
        return new Case(name, img -> edit.apply(img).build(), expected, true);
    }

    private static Case raw(String name, Function<GgufImage, byte[]> maker, String expected) {
        return new Case(name, maker, expected, false);
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(edit("arrays nested 10000 deep", img -> img.put("hostile.nest", ARRAY, nested(10_000)),
                "nests arrays more than 8 deep"));
        c.add(edit("block_count 2^31-1", img -> img.putU32("llama.block_count", Integer.MAX_VALUE),
                "block_count is 2147483647 but the file has tensors for 5 blocks"));
        c.add(edit("block_count 0", img -> img.putU32("llama.block_count", 0),
                "llama.block_count = 0 is out of range"));
        c.add(edit("block_count 3 of 5", img -> img.putU32("llama.block_count", 3),
                "block_count is 3 but the file has tensors for 5 blocks"));
        c.add(edit("head_count 0", img -> img.putU32("llama.attention.head_count", 0),
                "llama.attention.head_count = 0 is out of range"));
        c.add(edit("head_count_kv 0", img -> img.putU32("llama.attention.head_count_kv", 0),
                "llama.attention.head_count_kv = 0 is out of range"));
        c.add(edit("head_count_kv 3", img -> img.putU32("llama.attention.head_count_kv", 3),
                "is not a multiple of llama.attention.head_count_kv 3"));
        c.add(edit("head_count as float", img -> img.putF32("llama.attention.head_count", 8f),
                "metadata 'llama.attention.head_count' should be an integer"));
        c.add(edit("key_length 0", img -> img.putU32("llama.attention.key_length", 0),
                "llama.attention.key_length = 0 is out of range"));
        c.add(edit("rope dimension odd", img -> img.putU32("llama.rope.dimension_count", 7),
                "llama.rope.dimension_count 7 must be even"));
        c.add(edit("context_length 0", img -> img.putU32("llama.context_length", 0),
                "llama.context_length = 0 is out of range"));
        c.add(edit("bos id outside the vocabulary", img -> img.putU32("tokenizer.ggml.bos_token_id", 512),
                "tokenizer.ggml.bos_token_id = 512 is outside the vocabulary of 512 tokens"));
        c.add(edit("eos id 2^32-1", img -> img.putU32("tokenizer.ggml.eos_token_id", 0xFFFFFFFFL),
                "tokenizer.ggml.eos_token_id = 4294967295 is outside the vocabulary"));
        c.add(edit("rms epsilon NaN", img -> img.putF32("llama.attention.layer_norm_rms_epsilon", Float.NaN),
                "llama.attention.layer_norm_rms_epsilon = NaN must be a finite number > 0"));
        c.add(edit("rms epsilon 0", img -> img.putF32("llama.attention.layer_norm_rms_epsilon", 0f),
                "llama.attention.layer_norm_rms_epsilon = 0.0 must be a finite number > 0"));
        c.add(edit("rms epsilon -1e-5", img -> img.putF32("llama.attention.layer_norm_rms_epsilon", -1e-5f),
                "layer_norm_rms_epsilon = -1.0E-5 must be a finite number > 0"));
        c.add(edit("rms epsilon as u32", img -> img.putU32("llama.attention.layer_norm_rms_epsilon", 1),
                "metadata 'llama.attention.layer_norm_rms_epsilon' should be a float but is UINT32"));
        c.add(edit("rope base NaN", img -> img.putF32("llama.rope.freq_base", Float.NaN),
                "llama.rope.freq_base = NaN must be a finite number > 0"));
        c.add(edit("rope base 0", img -> img.putF32("llama.rope.freq_base", 0f),
                "llama.rope.freq_base = 0.0 must be a finite number > 0"));
        c.add(edit("rope base infinite", img -> img.putF32("llama.rope.freq_base", Float.POSITIVE_INFINITY),
                "llama.rope.freq_base = Infinity must be a finite number > 0"));
        c.add(edit("rope scale factor 0",
                img -> img.putString("llama.rope.scaling.type", "linear").putF32("llama.rope.scaling.factor", 0f),
                "llama.rope.scaling.factor = 0.0 must be a finite number > 0"));
        c.add(edit("rope frequency factors 0", img -> img.setTensor("rope_freqs.weight", new long[] {4}, 0, new byte[16]),
                "RoPE frequency factors must be > 0"));
        c.add(edit("alignment stored as float", img -> img.putF32("general.alignment", 32f),
                "general.alignment must be an unsigned integer, but is FLOAT32"));
        c.add(edit("alignment u64 beyond 32 bits", img -> img.put("general.alignment", UINT64, GgufImage.u64((1L << 32) + 32)),
                "general.alignment must be a power of two from 1 to 2^30, got 4294967328"));
        c.add(edit("alignment 0", img -> img.putU32("general.alignment", 0),
                "general.alignment must be a power of two from 1 to 2^30, got 0"));
        c.add(edit("alignment 48", img -> img.putU32("general.alignment", 48),
                "general.alignment must be a power of two from 1 to 2^30, got 48"));
        c.add(edit("key with a line break and an unknown type", img -> {
            img.entries.add(new GgufImage.Entry("evil\nkey\u0000", 99, new byte[0]));
            return img;
        }, "unknown value type id 99 for metadata 'evil\\x0akey\\x00'"));
        c.add(edit("tensor name of 5000 characters", img -> {
            GgufImage.Tensor t = img.tensor("output_norm.weight");
            img.tensors.set(img.tensors.indexOf(t), new GgufImage.Tensor("n".repeat(5000), new long[] {0}, t.type(), t.data()));
            return img;
        }, "tensor '" + "n".repeat(64) + "...' has a non-positive dimension 0"));
        c.add(edit("duplicate metadata key", img -> {
            img.entries.add(new GgufImage.Entry("llama.block_count", UINT32, GgufImage.u32(5)));
            return img;
        }, "duplicate metadata key 'llama.block_count'"));
        c.add(edit("tensor dimension near 2^63", img -> resize(img, "blk.0.attn_q.weight", new long[] {Long.MAX_VALUE - 7, 64}),
                "tensor 'blk.0.attn_q.weight' shape [9223372036854775800, 64] is too large"));
        c.add(edit("tensor bytes beyond 2^63", img -> resize(img, "blk.0.attn_q.weight", new long[] {1L << 62}),
                "tensor 'blk.0.attn_q.weight' shape [4611686018427387904] is too large"));
        c.add(raw("tensor offset near 2^63", img -> offsets(img, "output_norm.weight", Long.MAX_VALUE - 31),
                "truncated: tensor 'output_norm.weight' needs bytes up to beyond 2^63"));
        c.add(raw("tensor offset negative", img -> offsets(img, "output_norm.weight", -64),
                "tensor 'output_norm.weight' has offset 18446744073709551552, which is not a non-negative multiple"));
        c.add(raw("tensor offset unaligned", img -> offsets(img, "output_norm.weight", 4),
                "tensor 'output_norm.weight' has offset 4, which is not a non-negative multiple of the alignment 32"));
        c.add(edit("array length 2^62", img -> img.put("hostile.bytes", ARRAY, GgufImage.array(UINT8, 1L << 62)),
                "corrupt array length 4611686018427387904 for 'hostile.bytes'"));
        c.add(edit("normal token marked BYTE", img -> setTokenType(img, 300, 6),
                "token 300 '\u2581ha' has type BYTE (6) but its text is not of the form <0xNN>"));
        c.add(edit("vocabulary one token short", HostileFiles::dropLastToken,
                "the vocabulary has 511 tokens but token_embd.weight has 512 rows"));
        c.add(edit("no tensors (vocabulary only)", img -> {
            img.tensors.clear();
            return img;
        }, "has no weights (no tensors)"));
        c.add(edit("architecture gemma", img -> img.putString("general.architecture", "gemma"),
                "unsupported architecture 'gemma'"));
        c.add(edit("NaN in a norm weight", img -> poison(img, "output_norm.weight", 5, Float.NaN),
                "tensor 'output_norm.weight' holds a non-finite value (NaN) at element 5"));
        c.add(edit("NaN in a matrix", img -> poison(img, "blk.2.attn_q.weight", 100, Float.NaN),
                "the model produced non-finite logits at token 5 (NaN for token id 0; NaN in the weights? try --check-tensors)"));
        c.add(checked("NaN in a matrix, --check-tensors", img -> poison(img, "blk.2.attn_q.weight", 100, Float.NaN),
                "tensor 'blk.2.attn_q.weight' holds a non-finite value (NaN) at element 100 (found by --check-tensors)"));
        c.add(checked("infinity in the output matrix, --check-tensors",
                img -> poison(img, "output.weight", 64 * 511 + 3, Float.NEGATIVE_INFINITY),
                "tensor 'output.weight' holds a non-finite value (-Infinity) at element 32707"));
        c.add(edit("no byte token and no unknown token", HostileFiles::noByteFallback,
                "cannot encode the byte 0xCF: the vocabulary has neither <0xCF> nor an unknown token"));
        return c;
    }

    /** The prompt a case's generate run uses; non-ASCII so byte fallback is exercised. */
    static String prompt(Case c) {
        return c.name().startsWith("no byte token") ? "Once upon a time \u03c8" : "Once upon a time";
    }

    static byte[] nested(int depth) {
        ByteBuffer b = ByteBuffer.allocate(depth * 12 + 12).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < depth; i++) {
            b.putInt(ARRAY).putLong(1);
        }
        b.putInt(UINT8).putLong(0);
        return b.array();
    }

    private static GgufImage resize(GgufImage img, String tensor, long[] shape) {
        GgufImage.Tensor t = img.tensor(tensor);
        img.tensors.set(img.tensors.indexOf(t), new GgufImage.Tensor(t.name(), shape, t.type(), t.data()));
        return img;
    }

    /** The file with one tensor's offset field replaced (the others packed as usual). */
    private static byte[] offsets(GgufImage img, String tensor, long offset) {
        long[] offs = new long[img.tensors.size()];
        long o = 0;
        for (int i = 0; i < offs.length; i++) {
            GgufImage.Tensor t = img.tensors.get(i);
            offs[i] = t.name().equals(tensor) ? offset : o;
            o = GgufImage.align(o + t.data().length, img.alignment);
        }
        return img.build(offs);
    }

    private static GgufImage setTokenType(GgufImage img, int id, int type) {
        GgufImage.Entry e = img.entry("tokenizer.ggml.token_type");
        byte[] v = e.value().clone();
        if (e.elementType() != INT32) {
            throw new IllegalStateException("token types are not INT32");
        }
        ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).putInt(12 + 4 * id, type);
        return img.put(e.key(), e.type(), v);
    }

    private static GgufImage dropLastToken(GgufImage img) {
        String[] tokens = GgufImage.strings(img.entry("tokenizer.ggml.tokens"));
        img.put("tokenizer.ggml.tokens", ARRAY, GgufImage.stringArray(Arrays.copyOf(tokens, tokens.length - 1)));
        for (String key : List.of("tokenizer.ggml.scores", "tokenizer.ggml.token_type")) {
            GgufImage.Entry e = img.entry(key);
            byte[] v = e.value();
            byte[] shorter = Arrays.copyOf(v, v.length - 4); // both are 4-byte element arrays
            ByteBuffer.wrap(shorter).order(ByteOrder.LITTLE_ENDIAN).putLong(4, tokens.length - 1);
            img.put(key, e.type(), shorter);
        }
        return img;
    }

    /** Writes a float32 value into an F32 tensor's data. */
    static GgufImage poison(GgufImage img, String tensor, int element, float value) {
        GgufImage.Tensor t = img.tensor(tensor);
        if (t.type() != 0) {
            throw new IllegalStateException(tensor + " is not F32");
        }
        byte[] data = t.data().clone();
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putFloat(4 * element, value);
        return img.setTensor(tensor, t.shape(), t.type(), data);
    }

    /** No unknown token, and byte tokens spelled in lower case (valid) so that the lookup of <0xCF> for 'ψ' misses. */
    private static GgufImage noByteFallback(GgufImage img) {
        String[] tokens = GgufImage.strings(img.entry("tokenizer.ggml.tokens"));
        tokens[0] = "<unk-renamed>";
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i].matches("<0x[0-9A-F]{2}>")) {
                tokens[i] = "<0x" + tokens[i].substring(3, 5).toLowerCase(java.util.Locale.ROOT) + ">";
            }
        }
        img.put("tokenizer.ggml.tokens", ARRAY, GgufImage.stringArray(tokens));
        img.remove("tokenizer.ggml.unknown_token_id");
        return img;
    }
}
