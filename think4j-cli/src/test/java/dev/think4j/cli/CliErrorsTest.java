package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input of every kind gets one clear line on stderr (plus at most a usage hint), a non-zero
 * exit code and no stack trace.
 */
class CliErrorsTest {
    @TempDir
    Path dir;

    private static void assertUserError(CliRunner r, String expectedFragment) {
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.err()).isEqualTo(Main.EXIT_USER_ERROR);
        assertThat(r.err()).contains(expectedFragment);
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception in thread");
        assertThat(r.err().lines().filter(l -> l.startsWith("error: ")).count()).isEqualTo(1);
    }

    private Path bundledCopy() throws IOException {
        Path p = dir.resolve("model.gguf");
        Files.copy(SharedFixtures.bundledModel(), p);
        return p;
    }

    @Test
    void missingModelFile() {
        assertUserError(CliRunner.run("generate", "--model", dir.resolve("nope.gguf").toString(), "hi"), "model file not found");
    }

    @Test
    void truncatedFile() throws IOException {
        byte[] all = Files.readAllBytes(SharedFixtures.bundledModel());
        for (int cut : new int[] {10, 200, 5000, all.length / 2, all.length - 1}) {
            Path p = dir.resolve("cut" + cut + ".gguf");
            Files.write(p, java.util.Arrays.copyOf(all, cut));
            CliRunner r = CliRunner.run("generate", "--model", p.toString(), "--max-tokens", "1", "hi");
            assertUserError(r, p.toString());
            assertThat(r.err()).containsAnyOf("truncated", "too short");
        }
    }

    @Test
    void wrongMagic() throws IOException {
        Path p = bundledCopy();
        byte[] all = Files.readAllBytes(p);
        all[0] = 'X';
        Files.write(p, all);
        assertUserError(CliRunner.run("generate", "--model", p.toString(), "hi"), "not a GGUF file");
    }

    @Test
    void unknownFlag() {
        CliRunner r = CliRunner.run("generate", "--no-such-flag", "hi");
        assertUserError(r, "Unknown option: '--no-such-flag'");
    }

    @Test
    void badKvSpec() {
        assertUserError(CliRunner.run("generate", "--kv", "nosuch:1", "hi"), "unknown method 'nosuch'");
        assertUserError(CliRunner.run("generate", "--kv", "full++full", "hi"), "empty term");
    }

    @Test
    void badNumbers() {
        assertUserError(CliRunner.run("generate", "--max-tokens", "-3", "hi"), "--max-tokens must be >= 0");
        assertUserError(CliRunner.run("generate", "--temperature", "-1", "hi"), "temperature must be >= 0");
        assertUserError(CliRunner.run("generate", "--max-tokens", "abc", "hi"), "abc");
    }

    @Test
    void missingPrompt() {
        assertUserError(CliRunner.run("generate"), "missing prompt");
    }

    /** Offsets of the header fields of the first tensor entry, found by walking the metadata. */
    static long firstTensorTypeOffset(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        b.position(8);
        b.getLong(); // tensor count
        long kv = b.getLong();
        for (long i = 0; i < kv; i++) {
            skipString(b);
            skipValue(b, b.getInt());
        }
        skipString(b); // tensor name
        int dims = b.getInt();
        b.position(b.position() + 8 * dims);
        return b.position();
    }

    private static void skipString(ByteBuffer b) {
        long len = b.getLong();
        b.position((int) (b.position() + len));
    }

    private static void skipValue(ByteBuffer b, int type) {
        switch (type) {
            case 0, 1, 7 -> b.get();
            case 2, 3 -> b.getShort();
            case 4, 5, 6 -> b.getInt();
            case 10, 11, 12 -> b.getLong();
            case 8 -> skipString(b);
            case 9 -> {
                int elem = b.getInt();
                long n = b.getLong();
                for (long i = 0; i < n; i++) {
                    skipValue(b, elem);
                }
            }
            default -> throw new IllegalStateException("type " + type);
        }
    }

    @Test
    void unknownTensorType() throws IOException {
        Path p = bundledCopy();
        byte[] all = Files.readAllBytes(p);
        int off = (int) firstTensorTypeOffset(all);
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putInt(off, 99);
        Files.write(p, all);
        assertUserError(CliRunner.run("generate", "--model", p.toString(), "hi"), "unknown tensor type id 99");
    }

    @Test
    void unsupportedTensorType() throws IOException {
        Path p = bundledCopy();
        byte[] all = Files.readAllBytes(p);
        int off = (int) firstTensorTypeOffset(all);
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putInt(off, 26); // I32: valid ggml type, not a weight type
        Files.write(p, all);
        assertUserError(CliRunner.run("generate", "--model", p.toString(), "hi"), "unsupported tensor type I32");
    }

    @Test
    void unknownArchitecture() throws IOException {
        Path p = bundledCopy();
        byte[] all = Files.readAllBytes(p);
        String s = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = s.indexOf("llama", s.indexOf("general.architecture"));
        byte[] repl = "gemma".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(repl, 0, all, at, repl.length);
        Files.write(p, all);
        assertUserError(CliRunner.run("generate", "--model", p.toString(), "hi"), "unsupported architecture 'gemma'");
    }

    @Test
    void missingRequiredMetadata() throws IOException {
        Path p = bundledCopy();
        byte[] all = Files.readAllBytes(p);
        String s = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = s.indexOf("llama.block_count");
        all[at + 6] = 'X'; // rename the key to llama.Xlock_count
        Files.write(p, all);
        assertUserError(CliRunner.run("generate", "--model", p.toString(), "hi"), "missing required metadata 'llama.block_count'");
    }

    @Test
    void promptLongerThanContext() {
        CliRunner r = CliRunner.run("generate", "--ctx", "8", "--max-tokens", "1",
                "Once upon a time there was a little girl named Lily who liked to play in the park");
        assertUserError(r, "but the context is 8 tokens");
    }

    @Test
    void directoryAsModel() {
        assertUserError(CliRunner.run("generate", "--model", dir.toString(), "hi"), "is a directory");
    }
}
