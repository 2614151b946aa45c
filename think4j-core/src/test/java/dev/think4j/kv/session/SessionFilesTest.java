package dev.think4j.kv.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.think4j.SharedFixtures;
import dev.think4j.Think4jException;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A cache saved and loaded into a fresh one must continue exactly as the uninterrupted cache: same
 * greedy tokens and bit-identical logits, through decode-time flushes and evictions and a second
 * compression point (a new chat turn, which reads the window queries saved with the cache).
 */
class SessionFilesTest {
    private static Model model;

    @BeforeAll
    static void load() {
        model = Model.load(SharedFixtures.bundledModel());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** A prompt of {@code n} ids drawn from the vocabulary (fixed seed), after BOS. */
    static int[] prompt(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[n];
        ids[0] = 1;
        for (int i = 1; i < n; i++) {
            ids[i] = 3 + r.nextInt(model.config().vocabSize() - 3);
        }
        return ids;
    }

    /** Greedy run: logits after each fed token of the decode steps and the second turn, concatenated. */
    private record Run(List<float[]> logits, List<Integer> tokens) {
    }

    private static final class Driver {
        final Transformer t = model.newTransformer(32, 512);
        CompressedKvCache cache;
        final List<Integer> fed = new ArrayList<>();
        final float[] logits = new float[model.config().vocabSize()];

        Driver(CompressedKvCache cache) {
            this.cache = cache;
        }

        void prefill(int[] ids) {
            t.forward(ids, 0, ids.length, cache, logits, null);
            for (int id : ids) {
                fed.add(id);
            }
            cache.endPrefill();
        }

        void decode(int steps, Run run) {
            for (int i = 0; i < steps; i++) {
                int next = argmax(logits);
                run.tokens.add(next);
                t.forward(new int[] {next}, 0, 1, cache, logits, null);
                fed.add(next);
                run.logits.add(logits.clone());
            }
        }

        int[] history() {
            return fed.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    private static final int PROMPT = 300;
    private static final int STEPS = 48;

    /** The whole conversation: prefill, decode, a second turn's prefill, decode. */
    private static Run uninterrupted(String spec, int[] first, int[] second) {
        Run run = new Run(new ArrayList<>(), new ArrayList<>());
        Driver d = new Driver(model.newCache(KvSpec.parse(spec)));
        d.prefill(first);
        d.decode(STEPS, run);
        d.prefill(second);
        d.decode(STEPS, run);
        d.cache.clear();
        return run;
    }

    /** The same, saved and restored into a fresh cache after {@code savedAfter} decode steps of the first turn. */
    private static Run interrupted(String spec, int[] first, int[] second, int savedAfter) {
        Run run = new Run(new ArrayList<>(), new ArrayList<>());
        Driver d = new Driver(model.newCache(KvSpec.parse(spec)));
        d.prefill(first);
        d.decode(savedAfter, run);
        byte[] bytes = SessionFiles.toBytes(model, d.cache, d.history());
        float[] lastLogits = d.logits.clone();
        d.cache.clear();

        SessionFile f = SessionFiles.fromBytes(bytes);
        assertThat(f.header().kvSpec()).isEqualTo(KvSpec.parse(spec).spec());
        assertThat(f.tokens()).containsExactly(d.history());
        Driver e = new Driver(f.newCache(model));
        System.arraycopy(lastLogits, 0, e.logits, 0, lastLogits.length);
        e.fed.addAll(d.fed);
        e.decode(STEPS - savedAfter, run);
        e.prefill(second);
        e.decode(STEPS, run);
        e.cache.clear();
        return run;
    }

    @ParameterizedTest
    @ValueSource(strings = {"full", "think:0.5", "kivi:2", "think:0.5+kivi:2", "kivi:4,group=16,residual=32",
            "snapkv:128+think:0.5", "q8_0", "q4_0", "think:0.5+q8_0", "h2o:160", "streamingllm:4,120", "think:0.5,flush=8"})
    void continuesExactlyAfterPrefillAndAfterDecodeSteps(String spec) {
        int[] first = prompt(PROMPT, 7);
        int[] second = prompt(40, 11);
        second[0] = 5;
        Run reference = uninterrupted(spec, first, second);
        for (int savedAfter : new int[] {0, 17}) {
            Run resumed = interrupted(spec, first, second, savedAfter);
            assertThat(resumed.tokens()).as("%s saved after %d steps", spec, savedAfter).isEqualTo(reference.tokens());
            for (int i = 0; i < reference.logits().size(); i++) {
                assertThat(resumed.logits().get(i)).as("%s saved after %d steps: logits of step %d", spec, savedAfter, i)
                        .containsExactly(reference.logits().get(i));
            }
        }
    }

    /**
     * A ThinK + KIVI-2 session is several times smaller than a dense one. stories260K's 8-wide heads
     * leave little to gain (each KIVI group's scale and zero cost as much as its codes), so the
     * issue's ~10x is checked on a 64-wide head below.
     */
    @Test
    void compressedSessionsAreMuchSmallerThanDenseOnes() {
        int[] ids = prompt(400, 3);
        long dense = savedSize(model, "full", ids);
        long both = savedSize(model, "think:0.5+kivi:2,residual=32", ids);
        long kivi = savedSize(model, "kivi:2,residual=32", ids);
        System.out.printf("stories260K session sizes for %d tokens: full %d, kivi:2 %d, think:0.5+kivi:2 %d bytes (%.1fx smaller)%n",
                ids.length, dense, kivi, both, (double) dense / both);
        assertThat(both).isLessThan(kivi);
        assertThat((double) dense / both).isGreaterThan(4.0);
    }

    @Test
    void withHeadsOf64ChannelsALongThinkPlusKivi2SessionIsTenTimesSmaller() {
        try (Model m = Model.load(SharedFixtures.require("models/synthetic-q4_k_m.gguf"))) {
            // per 64-wide head and token: 512 dense bytes, 36 for a ThinK-pruned KIVI-2 token (2-bit codes of 32
            // key and 64 value channels, F16 scales and zeros); the dense residual and window bound the rest
            for (int n : new int[] {300, 2000}) {
                SplittableRandom r = new SplittableRandom(n);
                int[] ids = new int[n];
                for (int i = 0; i < n; i++) {
                    ids[i] = 3 + r.nextInt(m.config().vocabSize() - 3);
                }
                long dense = savedSize(m, "full", ids);
                long both = savedSize(m, "think:0.5+kivi:2", ids);
                long residual32 = savedSize(m, "think:0.5+kivi:2,residual=32", ids);
                if (n == 2000) {
                    timeSaveAndLoad(m, "think:0.5+kivi:2", ids);
                    timeSaveAndLoad(m, "full", ids);
                }
                System.out.printf("head dim %d, %d tokens: full %d, think:0.5+kivi:2 %d (%.1fx), "
                                + "think:0.5+kivi:2,residual=32 %d bytes (%.1fx)%n", m.config().headDim(), n, dense, both,
                        (double) dense / both, residual32, (double) dense / residual32);
                assertThat((double) dense / residual32).isGreaterThan(n < 1000 ? 4.5 : 10.0);
                assertThat((double) dense / both).isGreaterThan(n < 1000 ? 2.2 : 7.0);
            }
        }
    }

    private static long savedSize(Model m, String spec, int[] ids) {
        CompressedKvCache cache = m.newCache(KvSpec.parse(spec));
        m.newTransformer(64, Math.max(512, ids.length)).forward(ids, 0, ids.length, cache, new float[m.config().vocabSize()], null);
        cache.endPrefill();
        long cacheBytes = cache.bytes();
        byte[] b = SessionFiles.toBytes(m, cache, ids);
        cache.clear();
        // the file is the stored bytes plus small per-head bookkeeping, not a dense copy
        assertThat((long) b.length).isLessThan(cacheBytes + 4L * ids.length + 64L * 1024);
        return b.length;
    }

    /** Prints warm save and load times (for docs/SESSIONS.md; nothing asserted: the machine may be loaded). */
    private static void timeSaveAndLoad(Model m, String spec, int[] ids) {
        CompressedKvCache cache = m.newCache(KvSpec.parse(spec));
        m.newTransformer(64, Math.max(512, ids.length)).forward(ids, 0, ids.length, cache, new float[m.config().vocabSize()], null);
        cache.endPrefill();
        long save = Long.MAX_VALUE;
        long load = Long.MAX_VALUE;
        int size = 0;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            byte[] b = SessionFiles.toBytes(m, cache, ids);
            long t1 = System.nanoTime();
            CompressedKvCache back = SessionFiles.fromBytes(b).newCache(m);
            long t2 = System.nanoTime();
            back.clear();
            save = Math.min(save, t1 - t0);
            load = Math.min(load, t2 - t1);
            size = b.length;
        }
        cache.clear();
        System.out.printf("%s, %d tokens: %d bytes, toBytes %.2f ms, fromBytes+newCache %.2f ms (best of 5)%n", spec, ids.length,
                size, save / 1e6, load / 1e6);
    }

    private static byte[] saved(String spec) {
        Driver d = new Driver(model.newCache(KvSpec.parse(spec)));
        d.prefill(prompt(200, 5));
        byte[] b = SessionFiles.toBytes(model, d.cache, d.history());
        d.cache.clear();
        return b;
    }

    @Test
    void rejectsFilesThatAreNotSessions() {
        assertThatThrownBy(() -> SessionFiles.fromBytes("GGUF\0\0\0\0 hello".getBytes(), "x.bin"))
                .isInstanceOf(Think4jException.class).hasMessage("x.bin is not a think4j session file");
        assertThatThrownBy(() -> SessionFiles.fromBytes(new byte[0], "empty.bin"))
                .hasMessage("empty.bin is not a think4j session file");
    }

    @Test
    void rejectsOtherFormatVersions() {
        byte[] b = saved("think:0.5");
        b[8] = 9;
        assertThatThrownBy(() -> SessionFiles.fromBytes(b, "s")).isInstanceOf(Think4jException.class)
                .hasMessage("s has session format version 9; this think4j reads version 1");
    }

    @Test
    void rejectsTruncatedFilesAtEveryLength() {
        byte[] b = saved("think:0.5+kivi:2,residual=32");
        for (int len : new int[] {9, 15, 20, 40, b.length / 2, b.length - 5, b.length - 1}) {
            byte[] cut = Arrays.copyOf(b, len);
            assertThatThrownBy(() -> SessionFiles.fromBytes(cut, "s")).as("cut at %d", len)
                    .isInstanceOf(Think4jException.class).hasMessageStartingWith("s is truncated");
        }
    }

    @Test
    void rejectsFlippedBitsThroughTheChecksum() {
        byte[] b = saved("think:0.5+kivi:2,residual=32");
        for (int at : new int[] {30, b.length / 3, b.length - 10}) {
            byte[] bad = b.clone();
            bad[at] ^= 0x10;
            assertThatThrownBy(() -> SessionFiles.fromBytes(bad, "s")).as("bit flipped at %d", at)
                    .isInstanceOf(Think4jException.class).hasMessageStartingWith("s is damaged");
        }
    }

    /**
     * A file whose checksum was recomputed after its bytes changed (a bug elsewhere, or a crafted file)
     * must fail with a one-line error or load a cache of consistent shape, never crash otherwise.
     */
    @ParameterizedTest
    @ValueSource(strings = {"think:0.5+kivi:2,residual=32", "h2o:100+q4_0", "think:0.5,flush=8"})
    void changedBytesWithAValidChecksumFailCleanly(String spec) {
        byte[] b = saved(spec);
        SplittableRandom r = new SplittableRandom(17);
        int rejected = 0;
        for (int i = 0; i < 300; i++) {
            byte[] bad = b.clone();
            int at = 12 + r.nextInt(bad.length - 16);
            bad[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : bad[at] ^ (1 << r.nextInt(8)));
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(bad, 8, bad.length - 12);
            java.nio.ByteBuffer.wrap(bad, bad.length - 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
            try {
                CompressedKvCache c = SessionFiles.fromBytes(bad, "s").newCache(model);
                c.clear();
            } catch (Think4jException e) {
                assertThat(e.getMessage()).doesNotContain("\n");
                rejected++;
            }
        }
        assertThat(rejected).isPositive();
    }

    @Test
    void rejectsAnotherModelNamingIt() throws Exception {
        byte[] b = saved("think:0.5");
        Path other = SharedFixtures.require("models/stories260K-q8_0.gguf");
        try (Model m = Model.load(other)) {
            SessionFile f = SessionFiles.fromBytes(b, "chat.t4j");
            assertThatThrownBy(() -> f.newCache(m)).isInstanceOf(Think4jException.class)
                    .hasMessageContaining("chat.t4j was saved for model llama")
                    .hasMessageContaining("not for the loaded llama");
            assertThatThrownBy(() -> f.restoreInto(m, m.newCache(KvSpec.parse("think:0.5"))))
                    .hasMessageContaining("was saved for model");
        }
    }

    @Test
    void rejectsAnotherKvSpecWhenRestoringIntoACache() {
        SessionFile f = SessionFiles.fromBytes(saved("think:0.5+kivi:2"), "s");
        CompressedKvCache dense = model.newCache(KvSpec.parse("full"));
        assertThatThrownBy(() -> f.restoreInto(model, dense)).isInstanceOf(Think4jException.class)
                .hasMessage("s holds a cache compressed with --kv think:0.5+kivi:2, not full (leave --kv out to use the file's)");
        f.checkSpec("think:0.5 + kivi:2");
    }

    @Test
    void streamsAndFilesRoundTrip(@TempDir Path dir) throws Exception {
        Driver d = new Driver(model.newCache(KvSpec.parse("think:0.5+kivi:2")));
        d.prefill(prompt(200, 5));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SessionFiles.write(out, model, d.cache, d.history());
        SessionFiles.write(out, model, d.cache, d.history());
        Path file = dir.resolve("s.t4j");
        SessionFiles.save(file, model, d.cache, d.history());
        long bytes = d.cache.bytes();
        d.cache.clear();

        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
        SessionFile a = SessionFiles.read(in, "stream");
        SessionFile b = SessionFiles.read(in, "stream");
        assertThat(in.available()).isZero();
        assertThat(a.tokens()).containsExactly(b.tokens());
        assertThat(a.newCache(model).bytes()).isEqualTo(bytes);
        SessionFile c = SessionFiles.load(file);
        assertThat(c.header().tokenCount()).isEqualTo(200);
        assertThat(Files.size(file)).isEqualTo(out.size() / 2);
        assertThatThrownBy(() -> SessionFiles.load(dir.resolve("missing.t4j")))
                .hasMessage("session file " + dir.resolve("missing.t4j") + " does not exist");
    }
}
