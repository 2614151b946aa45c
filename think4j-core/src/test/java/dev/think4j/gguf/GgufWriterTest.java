package dev.think4j.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.think4j.SharedFixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GgufWriterTest {
    @TempDir
    Path dir;

    private Path sample(int version, int alignment) {
        GgufWriter w = new GgufWriter(version);
        if (alignment != 32) {
            w.putUInt32("general.alignment", alignment);
        }
        w.put("u8", GgufValueType.UINT8, 200).put("i8", GgufValueType.INT8, -5).put("u16", GgufValueType.UINT16, 60000)
                .put("i16", GgufValueType.INT16, -300).put("u32", GgufValueType.UINT32, 4_000_000_000L)
                .put("i32", GgufValueType.INT32, -7).put("f32", GgufValueType.FLOAT32, 1.5f)
                .put("u64", GgufValueType.UINT64, 1L << 40).put("i64", GgufValueType.INT64, -(1L << 40))
                .put("f64", GgufValueType.FLOAT64, Math.PI).putBool("flag", true).putString("s", "héllo ✓");
        w.putArray("strings", GgufValueType.STRING, new String[] {"a", "", "日本"});
        w.putArray("ints", GgufValueType.INT32, new int[] {1, -2, 3});
        w.putArray("floats", GgufValueType.FLOAT32, new float[] {0.5f, -1f});
        w.putArray("bytes", GgufValueType.UINT8, new byte[] {1, 2, (byte) 255});
        w.putArray("longs", GgufValueType.INT64, new long[] {5, -6});
        w.putArray("bools", GgufValueType.BOOL, new boolean[] {true, false});
        w.putArray("nested", GgufValueType.ARRAY, new GgufWriter.Nested[] {
            new GgufWriter.Nested(GgufValueType.INT32, new int[] {7, 8}), new GgufWriter.Nested(GgufValueType.STRING, new String[] {"x"})});
        float[] data = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] bytes = new byte[32];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(data);
        w.addTensor("a", new long[] {4, 2}, GgmlType.F32, bytes);
        w.addTensor("b", new long[] {3}, GgmlType.F32, new byte[12]);
        w.addTensor("c", new long[] {8}, GgmlType.F32, bytes);
        Path p = dir.resolve("s" + version + "_" + alignment + ".gguf");
        w.write(p);
        return p;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void roundTripsEveryValueTypeAndTensorData(int version) {
        for (int alignment : new int[] {32, 64, 8}) {
            try (GgufFile f = GgufFile.open(sample(version, alignment))) {
                assertThat(f.version()).isEqualTo(version);
                assertThat(f.alignment()).isEqualTo(alignment);
                assertThat(f.metadata().get("u8")).isEqualTo(200);
                assertThat(f.metadata().get("i8")).isEqualTo(-5);
                assertThat(f.metadata().get("u16")).isEqualTo(60000);
                assertThat(f.metadata().get("i16")).isEqualTo(-300);
                assertThat(f.metadata().get("u32")).isEqualTo(4_000_000_000L);
                assertThat(f.getInt("i32")).isEqualTo(-7);
                assertThat(f.getFloat("f32")).isEqualTo(1.5f);
                assertThat(f.getLong("u64")).isEqualTo(1L << 40);
                assertThat(f.getLong("i64")).isEqualTo(-(1L << 40));
                assertThat(f.metadata().get("f64")).isEqualTo(Math.PI);
                assertThat(f.getBoolean("flag", false)).isTrue();
                assertThat(f.getString("s")).isEqualTo("héllo ✓");
                assertThat(f.getStringArray("strings")).containsExactly("a", "", "日本");
                assertThat(f.getIntArray("ints")).containsExactly(1, -2, 3);
                assertThat(f.getFloatArray("floats")).containsExactly(0.5f, -1f);
                assertThat(f.getIntArray("bytes")).containsExactly(1, 2, -1);
                assertThat((long[]) f.metadata().get("longs")).containsExactly(5, -6);
                assertThat((boolean[]) f.metadata().get("bools")).containsExactly(true, false);
                Object[] nested = (Object[]) f.metadata().get("nested");
                assertThat((int[]) nested[0]).containsExactly(7, 8);
                assertThat((String[]) nested[1]).containsExactly("x");
                assertThat(f.metadataType("u32")).isEqualTo(GgufValueType.UINT32);
                for (GgufTensorInfo t : f.tensorList()) {
                    assertThat((f.dataOffset() + t.offset()) % alignment).isZero();
                }
                float[] a = f.tensorData(f.tensor("a")).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED);
                assertThat(a).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
                assertThat(f.tensor("a").shape()).containsExactly(4, 2);
            }
        }
    }

    @Test
    void everyTruncationIsAClearFormatError() throws IOException {
        byte[] all = Files.readAllBytes(sample(3, 32));
        for (int cut = 0; cut < all.length; cut += 7) {
            Path p = dir.resolve("cut.gguf");
            Files.write(p, java.util.Arrays.copyOf(all, cut));
            assertThatThrownBy(() -> GgufFile.open(p).close()).as("cut at %d", cut).isInstanceOf(GgufFormatException.class)
                    .hasMessageContaining(p.toString());
        }
    }

    @Test
    void corruptHeadersAreClearFormatErrors() throws IOException {
        byte[] good = Files.readAllBytes(sample(3, 32));
        byte[] badVersion = good.clone();
        ByteBuffer.wrap(badVersion).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 7);
        assertFormatError(badVersion, "unsupported GGUF version 7");
        byte[] hugeCount = good.clone();
        ByteBuffer.wrap(hugeCount).order(ByteOrder.LITTLE_ENDIAN).putLong(16, Long.MAX_VALUE / 2);
        assertFormatError(hugeCount, "impossible");
        byte[] badValueType = good.clone();
        // first metadata entry: key length (8) + key "u8" (2) at offset 24, then the value type
        ByteBuffer.wrap(badValueType).order(ByteOrder.LITTLE_ENDIAN).putInt(24 + 8 + 2, 99);
        assertFormatError(badValueType, "unknown value type id 99");
        assertFormatError(new byte[0], "too short");
    }

    private void assertFormatError(byte[] content, String fragment) throws IOException {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, content);
        assertThatThrownBy(() -> GgufFile.open(p).close()).isInstanceOf(GgufFormatException.class).hasMessageContaining(fragment);
    }

    @Test
    void readsTheSharedModels() {
        try (GgufFile f = GgufFile.open(SharedFixtures.bundledModel())) {
            assertThat(f.getString("general.architecture")).isEqualTo("llama");
            assertThat(f.getInt("llama.embedding_length")).isEqualTo(64);
            assertThat(f.getInt("llama.block_count")).isEqualTo(5);
            assertThat(f.getInt("llama.attention.head_count")).isEqualTo(8);
            assertThat(f.getInt("llama.attention.head_count_kv")).isEqualTo(4);
            assertThat(f.getStringArray("tokenizer.ggml.tokens")).hasSize(512);
        }
        try (GgufFile f = GgufFile.open(SharedFixtures.require("models/synthetic-q4_k_m.gguf"))) {
            assertThat(f.tensorList()).anyMatch(t -> t.type() == GgmlType.Q4_K).anyMatch(t -> t.type() == GgmlType.Q6_K);
        }
    }
}
