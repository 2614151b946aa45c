package dev.think4j.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.think4j.GgufImage;
import dev.think4j.SharedFixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader's defences against corrupt headers: every one ends in a GgufFormatException, never another exception. */
class GgufFileTest {
    private static final GgufImage SEED = GgufImage.read(SharedFixtures.bundledModel());

    @TempDir
    Path dir;

    private Path write(byte[] bytes) throws IOException {
        Path p = dir.resolve("t.gguf");
        Files.write(p, bytes);
        return p;
    }

    private void assertRejected(byte[] bytes, String fragment) throws IOException {
        Path p = write(bytes);
        assertThatThrownBy(() -> GgufFile.open(p).close()).isExactlyInstanceOf(GgufFormatException.class)
                .hasMessageContaining(fragment);
    }

    /** Nesting is bounded (it was unbounded recursion: a StackOverflowError with a 1,025-line trace). */
    /** The huge-page copy holds the file byte for byte, and closing the file frees it. */
    @Test
    void residentCopyHoldsTheSameBytesAsTheMapping() {
        Path model = SharedFixtures.bundledModel();
        try (GgufFile mapped = GgufFile.open(model); GgufFile copy = GgufFile.open(model, true)) {
            assertThat(copy.metadata().keySet()).isEqualTo(mapped.metadata().keySet());
            assertThat(copy.tensors().keySet()).isEqualTo(mapped.tensors().keySet());
            for (GgufTensorInfo t : mapped.tensorList()) {
                byte[] a = mapped.tensorData(t).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                byte[] b = copy.tensorData(copy.tensor(t.name())).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                assertThat(b).as(t.name()).isEqualTo(a);
            }
        }
    }

    @Test
    void arrayNestingIsCappedAtEightLevels() throws IOException {
        byte[] eight = SEED.copy().put("x.nest", GgufImage.ARRAY, nested(8)).build();
        try (GgufFile f = GgufFile.open(write(eight))) {
            Object v = f.metadata().get("x.nest");
            for (int i = 1; i < 8; i++) {
                assertThat(v).isInstanceOf(Object[].class);
                v = ((Object[]) v)[0];
            }
            assertThat(v).isInstanceOf(byte[].class);
        }
        assertRejected(SEED.copy().put("x.nest", GgufImage.ARRAY, nested(9)).build(), "nests arrays more than 8 deep");
        assertRejected(SEED.copy().put("x.nest", GgufImage.ARRAY, nested(100_000)).build(), "nests arrays more than 8 deep");
    }

    /** Array lengths are checked against the bytes left, so no huge allocation precedes the truncation error. */
    @Test
    void arrayLengthsMustFitTheRemainingBytes() throws IOException {
        for (int type : new int[] {GgufImage.UINT8, GgufImage.INT32, GgufImage.FLOAT64, GgufImage.STRING, GgufImage.ARRAY}) {
            assertRejected(SEED.copy().put("x.a", GgufImage.ARRAY, GgufImage.array(type, 100_000_000L)).build(),
                    "corrupt array length 100000000 for 'x.a'");
        }
    }

    @Test
    void countsMustFitTheFile() throws IOException {
        byte[] b = SEED.copy().build();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(8, b.length / 32 + 1);
        assertRejected(b, "tensor count");
        b = SEED.copy().build();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(16, Long.MAX_VALUE);
        assertRejected(b, "metadata count 9223372036854775807 is impossible");
    }

    @Test
    void alignmentMustBeAnIntegerPowerOfTwoThatFits() throws IOException {
        assertRejected(SEED.copy().putF32("general.alignment", 32f).build(), "must be an unsigned integer, but is FLOAT32");
        assertRejected(SEED.copy().put("general.alignment", GgufImage.FLOAT64, GgufImage.f64(32)).build(), "but is FLOAT64");
        assertRejected(SEED.copy().putString("general.alignment", "3\n2\u0000").build(), "but is STRING (3\\x0a2\\x00)");
        // read as an int this was 32: a file laid out at 32 that claims another alignment
        assertRejected(SEED.copy().put("general.alignment", GgufImage.UINT64, GgufImage.u64((1L << 32) + 32)).build(),
                "got 4294967328");
        assertRejected(SEED.copy().put("general.alignment", GgufImage.UINT64, GgufImage.u64(-32)).build(),
                "got 18446744073709551584");
        assertRejected(SEED.copy().put("general.alignment", GgufImage.INT32, GgufImage.i32(-32)).build(), "got -32");
        assertRejected(SEED.copy().putU32("general.alignment", 1L << 31).build(), "got 2147483648");
        assertRejected(SEED.copy().putU32("general.alignment", 96).build(), "got 96");
    }

    /** A valid alignment other than 32, stored as u32 or u64, lays out the data and is read back intact. */
    @Test
    void otherValidAlignmentsReadTheSameTensors() throws IOException {
        for (int type : new int[] {GgufImage.UINT32, GgufImage.UINT64, GgufImage.UINT16}) {
            GgufImage img = SEED.copy();
            byte[] value = type == GgufImage.UINT64 ? GgufImage.u64(256) : type == GgufImage.UINT32 ? GgufImage.u32(256)
                    : new byte[] {0, 1};
            img.put("general.alignment", type, value);
            img.alignment = 256;
            try (GgufFile f = GgufFile.open(write(img.build()))) {
                assertThat(f.alignment()).isEqualTo(256);
                assertThat(f.dataOffset() % 256).isZero();
                for (GgufImage.Tensor t : SEED.tensors) {
                    byte[] read = f.tensorData(f.tensor(t.name())).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    assertThat(Arrays.equals(read, t.data())).as(t.name()).isTrue();
                }
            }
        }
    }

    /** Sizes computed from dimensions near 2^63 overflowed ("long overflow", an ArithmeticException). */
    @Test
    void tensorSizesThatOverflowAreFormatErrors() throws IOException {
        assertRejected(withShape("blk.0.attn_q.weight", Long.MAX_VALUE - 7, 64), "is too large (its size overflows 64 bits)");
        assertRejected(withShape("blk.0.attn_q.weight", 1L << 62), "is too large");
        assertRejected(withShape("blk.0.attn_q.weight", 1L << 40, 1L << 22), "is too large");
        assertRejected(withShape("blk.0.attn_q.weight", 1L << 40), "needs 4398046511104 bytes but the file has");
    }

    /** Offsets near 2^63 overflowed the bounds check, and the slice then failed with a raw address. */
    @Test
    void tensorOffsetsAreCheckedWithoutOverflow() throws IOException {
        assertRejected(withOffset("output_norm.weight", Long.MAX_VALUE - 31), "needs bytes up to beyond 2^63");
        assertRejected(withOffset("output_norm.weight", Long.MAX_VALUE - 30), "is not a non-negative multiple of the alignment");
        assertRejected(withOffset("output_norm.weight", Long.MIN_VALUE), "has offset 9223372036854775808");
        assertRejected(withOffset("output_norm.weight", 1L << 40), "needs bytes up to 1099511");
    }

    @Test
    void duplicateKeysAreRejected() throws IOException {
        GgufImage img = SEED.copy();
        img.entries.add(new GgufImage.Entry("general.name", GgufImage.STRING, GgufImage.str("again")));
        assertRejected(img.build(), "duplicate metadata key 'general.name'");
    }

    @Test
    void typedGettersRefuseOtherTypesAndRanges() throws IOException {
        GgufImage img = SEED.copy()
                .putU32("x.int", 7)
                .put("x.longs", GgufImage.ARRAY, GgufImage.array(GgufImage.INT64, 2, GgufImage.u64(1), GgufImage.u64(1L << 40)));
        try (GgufFile f = GgufFile.open(write(img.build()))) {
            assertThatThrownBy(() -> f.getFloat("x.int")).isInstanceOf(GgufFormatException.class)
                    .hasMessageContaining("should be a float but is UINT32");
            assertThatThrownBy(() -> f.getIntArray("x.longs")).isInstanceOf(GgufFormatException.class)
                    .hasMessageContaining("element 1 = 1099511627776 is out of range");
            assertThat(f.getFloat("llama.attention.layer_norm_rms_epsilon")).isEqualTo(1e-5f);
        }
    }

    private static byte[] nested(int depth) {
        ByteBuffer b = ByteBuffer.allocate(depth * 12).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 1; i < depth; i++) {
            b.putInt(GgufImage.ARRAY).putLong(1);
        }
        b.putInt(GgufImage.UINT8).putLong(0);
        return Arrays.copyOf(b.array(), b.position());
    }

    private static byte[] withShape(String name, long... shape) {
        GgufImage img = SEED.copy();
        GgufImage.Tensor t = img.tensor(name);
        img.tensors.set(img.tensors.indexOf(t), new GgufImage.Tensor(name, shape, t.type(), t.data()));
        return img.build();
    }

    private static byte[] withOffset(String name, long offset) {
        long[] offs = new long[SEED.tensors.size()];
        long o = 0;
        for (int i = 0; i < offs.length; i++) {
            GgufImage.Tensor t = SEED.tensors.get(i);
            offs[i] = t.name().equals(name) ? offset : o;
            o = GgufImage.align(o + t.data().length, SEED.alignment);
        }
        return SEED.copy().build(offs);
    }
}
