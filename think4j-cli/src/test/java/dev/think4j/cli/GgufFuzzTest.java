package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.GgufImage;
import dev.think4j.SharedFixtures;
import dev.think4j.Think4jException;
import dev.think4j.generate.SamplerConfig;
import dev.think4j.generate.Session;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile-file fuzzing: mutants of the bundled model (and of the quantized copies in
 * ../shared/models when present) go through the CLI's loading path (model, tokenizer, a few greedy
 * tokens) and each must end either in a clean rejection (a {@link Think4jException} with a message,
 * which the CLI prints as one {@code error:} line with exit status 2) or in a normal run with finite
 * logits. Anything else (another exception class, an Error such as StackOverflowError or
 * OutOfMemoryError, non-finite logits) fails the test, which prints each failing mutant's index
 * and mutation so that it can be replayed alone.
 *
 * <p>Mutations: bit flips and byte overwrites in the header, metadata and tensor-info region;
 * truncations; in-place edits of metadata values (with boundary values of their type), of value
 * types, array element types and lengths, of tensor dimension counts, dimensions, types and
 * offsets, and of the tensor and metadata counts; targeted rewrites of hyper-parameters (counts,
 * widths, epsilon, rope base and scaling, alignment, special token ids), inserted with any value
 * type; NaN and infinities written into tensor data; and the hand-made files of {@link HostileFiles}.
 * Mutant {@code i} is made from its own generator seeded by (seed, i), so a run is deterministic.
 *
 * <p>{@code ./test} runs 3,000 mutants (well under a minute). More, or another seed, or one mutant:
 * <pre>
 * ./test -Dtest=GgufFuzzTest -Dthink4j.fuzz.mutants=100000
 * ./test -Dtest=GgufFuzzTest -Dthink4j.fuzz.seed=7
 * ./test -Dtest=GgufFuzzTest -Dthink4j.fuzz.only=1234     # replay mutant 1234 of the default seed
 * </pre>
 * The outcome counts (runs, and rejections grouped by message) are printed at the end.
 */
class GgufFuzzTest {
    private static final int MUTANTS = Integer.getInteger("think4j.fuzz.mutants", 3000);
    private static final long SEED = Long.getLong("think4j.fuzz.seed", 15L);
    private static final int ONLY = Integer.getInteger("think4j.fuzz.only", -1);
    /** Every CLI_EVERY-th mutant also goes through the real CLI (picocli, exception handler, exit code). */
    private static final int CLI_EVERY = 97;
    /** Short (compute is most of a mutant's cost) with a character that needs byte fallback. */
    private static final String PROMPT = "Once \u03c8";
    private static final int MAX_TOKENS = 2;

    @TempDir
    Path dir;

    /** A seed file taken apart, with its original bytes. */
    private record Seed(String name, byte[] bytes, GgufImage image) {
    }

    private record Mutant(int index, String seed, String description, byte[] bytes, boolean checkTensors) {
    }

    @Test
    void mutantsAreRejectedCleanlyOrRunWithFiniteLogits() throws IOException {
        List<Seed> seeds = seeds();
        // tmpfs when there is one: thousands of ~1 MB writes are a good part of the run time on disk
        Path shm = Path.of("/dev/shm");
        Path work = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "think4j-fuzz") : dir;
        Path file = work.resolve("mutant.gguf");
        try {
            runMutants(seeds, file);
        } finally {
            Files.deleteIfExists(file);
            if (!work.equals(dir)) {
                Files.deleteIfExists(work);
            }
        }
    }

    private void runMutants(List<Seed> seeds, Path file) throws IOException {
        Map<String, Integer> outcomes = new TreeMap<>();
        Map<String, Integer> byStrategy = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        int cliRuns = 0;
        long t0 = System.nanoTime();
        long slowest = 0;
        String slowestMutant = "";
        int from = ONLY >= 0 ? ONLY : 0;
        int to = ONLY >= 0 ? ONLY + 1 : MUTANTS;
        for (int i = from; i < to; i++) {
            Mutant m = mutate(seeds, i);
            Files.write(file, m.bytes());
            long start = System.nanoTime();
            String outcome;
            try {
                outcome = run(file, m.checkTensors());
            } catch (Think4jException e) {
                String msg = e.getMessage();
                // the CLI prints the message as the one error line: it must say something, on one line, briefly
                boolean clean = msg != null && !msg.isBlank() && !msg.contains("internal error") && msg.length() < 600
                        && msg.chars().noneMatch(Character::isISOControl);
                outcome = clean ? "rejected: " + category(msg, file) : fail(failures, m, e);
            } catch (Throwable e) { // StackOverflowError and OutOfMemoryError included: each is a finding
                outcome = fail(failures, m, e);
            }
            long took = System.nanoTime() - start;
            if (took > slowest) {
                slowest = took;
                slowestMutant = m.index() + " (" + m.seed() + ": " + m.description() + ")";
            }
            outcomes.merge(outcome, 1, Integer::sum);
            byStrategy.merge(m.description().replaceAll("[ (:].*", ""), 1, Integer::sum);
            if (i % CLI_EVERY == 0 || ONLY >= 0) {
                cliRuns++;
                String problem = cliProblem(file, m.checkTensors(), outcome.equals("ok"));
                if (problem != null) {
                    failures.add("mutant " + m.index() + " (" + m.seed() + ": " + m.description() + ") via the CLI: " + problem);
                }
            }
        }
        report(to - from, cliRuns, outcomes, byStrategy, System.nanoTime() - t0, slowest, slowestMutant);
        assertThat(failures).as("mutants that neither ran with finite logits nor were rejected cleanly").isEmpty();
    }

    /** The hand-made hostile files, each also through the loading path (the CLI side is in HostileFilesTest). */
    @Test
    void handMadeHostileFilesAreRejectedThroughTheLoadingPath() throws IOException {
        GgufImage seed = GgufImage.read(SharedFixtures.bundledModel());
        Path file = dir.resolve("hostile.gguf");
        for (HostileFiles.Case c : HostileFiles.cases()) {
            Files.write(file, c.build(seed));
            try {
                String outcome = run(file, c.checkTensors(), HostileFiles.prompt(c));
                throw new AssertionError(c.name() + ": expected a rejection, got " + outcome);
            } catch (Think4jException e) {
                assertThat(e.getMessage()).as(c.name()).contains(c.expected());
            }
        }
    }

    // ---- running one file the way the CLI does ----

    private static String run(Path file, boolean checkTensors) {
        return run(file, checkTensors, PROMPT);
    }

    /** generate's path: load, tokenizer, greedy tokens; plus decoding every token and an independent logits check. */
    private static String run(Path file, boolean checkTensors, String prompt) {
        try (Model model = Model.load(file, checkTensors)) {
            Tokenizer tok = Tokenizer.fromGguf(model.gguf());
            int[] ids = tok.encode(prompt, true, false);
            try (Session session = new Session(model, tok, KvPolicy.none(), model.config().contextLength(), 64)) {
                session.generate(ids, MAX_TOKENS, SamplerConfig.greedy(), List.of(), null, null);
            }
            // streaming and whole-text decoding of every token: corrupt token texts and types show up here
            for (int id = 0; id < tok.vocabSize(); id++) {
                tok.decode(new int[] {id});
                tok.newStreamingDecoder().push(id);
            }
            // the logits the session accepted, recomputed on a fresh cache and checked here independently
            var cache = model.newCache(KvPolicy.none());
            float[] logits = new float[model.config().vocabSize()];
            model.newTransformer(16).forward(ids, 0, Math.min(ids.length, model.config().contextLength()), cache, logits, null);
            cache.clear();
            for (float v : logits) {
                if (!Float.isFinite(v)) {
                    throw new AssertionError("non-finite logit " + v + " in a run that was not rejected");
                }
            }
            return "ok";
        }
    }

    /** Runs generate through picocli; returns what is wrong with the result, or null. */
    private static String cliProblem(Path file, boolean checkTensors, boolean ranDirectly) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> args = new ArrayList<>(List.of("generate", "--model", file.toString(), "--max-tokens",
                String.valueOf(MAX_TOKENS), "--temperature", "0", "--json"));
        if (checkTensors) {
            args.add("--check-tensors");
        }
        args.add(PROMPT);
        int code;
        try {
            code = cl.execute(args.toArray(String[]::new));
        } catch (Throwable e) {
            return "escaped the CLI: " + e;
        }
        String e = err.toString();
        if (code == 0) {
            return ranDirectly ? null : "exit 0 where the loading path rejected the file";
        }
        List<String> lines = e.lines().filter(l -> !l.isBlank()).toList();
        if (code != Main.EXIT_USER_ERROR || lines.size() != 1 || !lines.getFirst().startsWith("error: ")) {
            return "exit " + code + " with stderr: " + e.strip();
        }
        return null;
    }

    private static String fail(List<String> failures, Mutant m, Throwable e) {
        StringWriter trace = new StringWriter();
        PrintWriter pw = new PrintWriter(trace);
        pw.println(e);
        StackTraceElement[] st = e.getStackTrace();
        for (int k = 0; k < Math.min(8, st.length); k++) {
            pw.println("\tat " + st[k]);
        }
        if (failures.size() < 30) {
            failures.add("mutant " + m.index() + " (" + m.seed() + ": " + m.description() + "): " + trace);
        }
        return "FAILED: " + e.getClass().getSimpleName();
    }

    /** A rejection message without the path and numbers, so that alike rejections count together. */
    private static String category(String message, Path file) {
        String s = message.replace(file.toString(), "FILE").replaceAll("[^\\x20-\\x7e]", "?").replaceAll("'[^']*'", "'_'").replaceAll("-?\\d[\\d.E+-]*", "N");
        return s.length() > 90 ? s.substring(0, 90) : s;
    }

    private static void report(int n, int cliRuns, Map<String, Integer> outcomes, Map<String, Integer> byStrategy,
                               long nanos, long slowest, String slowestMutant) {
        int ok = outcomes.getOrDefault("ok", 0);
        int failed = outcomes.entrySet().stream().filter(e -> e.getKey().startsWith("FAILED")).mapToInt(Map.Entry::getValue).sum();
        System.out.printf(Locale.ROOT, "GgufFuzzTest: %d mutants (seed %d) in %.1f s, %d also through the CLI: %d ran with finite "
                + "logits, %d rejected cleanly, %d failed; slowest %.0f ms: mutant %s%n", n, SEED, nanos / 1e9, cliRuns, ok,
                n - ok - failed, failed, slowest / 1e6, slowestMutant);
        System.out.println("  mutations: " + byStrategy);
        outcomes.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEach(e -> System.out.printf(Locale.ROOT, "  %6d  %s%n", e.getValue(), e.getKey()));
    }

    // ---- seeds ----

    private static List<Seed> seeds() throws IOException {
        List<Path> paths = new ArrayList<>();
        paths.add(SharedFixtures.bundledModel());
        Path shared = SharedFixtures.root().resolve("models");
        for (String name : List.of("stories260K-q4_0.gguf", "stories260K-q8_0.gguf", "stories260K-f16.gguf",
                "stories260K-bf16.gguf", "synthetic-q4_k_m.gguf", "synthetic-q5_k_m.gguf")) {
            if (Files.exists(shared.resolve(name))) {
                paths.add(shared.resolve(name));
            }
        }
        if (paths.size() == 1) {
            System.out.println("GgufFuzzTest: " + shared + " not present, fuzzing the bundled model only");
        }
        List<Seed> seeds = new ArrayList<>();
        for (Path p : paths) {
            byte[] bytes = Files.readAllBytes(p);
            seeds.add(new Seed(p.getFileName().toString(), bytes, GgufImage.parse(bytes)));
        }
        return seeds;
    }

    // ---- mutations ----

    private static final long[] LONGS = {0, 1, -1, 2, 3, 7, 8, 31, 32, 33, 64, 255, 256, 511, 512, 513, 4096,
        Integer.MAX_VALUE, Integer.MIN_VALUE, 0xFFFFFFFFL, 1L << 32, (1L << 32) + 32, 1L << 62, Long.MAX_VALUE,
        Long.MIN_VALUE, Long.MAX_VALUE - 7, Long.MAX_VALUE - 31, -32};
    private static final float[] FLOATS = {0f, -0f, -1f, 1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.MIN_VALUE, Float.MAX_VALUE, 1e-30f, 1e30f, 1e-5f, 10000f, 0.5f, -1e-5f};
    private static final String[] TARGET_KEYS = {"llama.block_count", "llama.embedding_length", "llama.feed_forward_length",
        "llama.attention.head_count", "llama.attention.head_count_kv", "llama.attention.key_length",
        "llama.attention.value_length", "llama.context_length", "llama.rope.dimension_count",
        "llama.attention.layer_norm_rms_epsilon", "llama.rope.freq_base", "llama.rope.scaling.factor",
        "llama.rope.scaling.type", "general.alignment", "general.architecture", "tokenizer.ggml.bos_token_id",
        "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.eot_token_id",
        "tokenizer.ggml.model", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.token_type", "tokenizer.ggml.tokens",
        "tokenizer.ggml.scores"};

    private static Mutant mutate(List<Seed> seeds, int index) {
        Random r = new Random(SEED * 1_000_003L + index);
        // the bundled model gets a third of the mutants, the other seeds share the rest
        int slot = index % (3 * seeds.size());
        Seed s = seeds.get(slot < 2 * seeds.size() ? 0 : slot - 2 * seeds.size());
        int strategy = r.nextInt(100);
        byte[] b = s.bytes().clone();
        GgufImage img = s.image();
        String d;
        if (strategy < 14) {
            int flips = 1 + r.nextInt(4);
            StringBuilder at = new StringBuilder();
            for (int k = 0; k < flips; k++) {
                int pos = r.nextInt(img.headerEnd);
                b[pos] ^= (byte) (1 << r.nextInt(8));
                at.append(k > 0 ? "," : "").append(pos);
            }
            d = "bitflip at " + at;
        } else if (strategy < 22) {
            int pos = r.nextInt(img.headerEnd);
            int len = 1 + r.nextInt(8);
            byte fill = new byte[] {0, (byte) 0xFF, 0x7F, (byte) 0x80, (byte) r.nextInt(256)}[r.nextInt(5)];
            for (int k = pos; k < Math.min(b.length, pos + len); k++) {
                b[k] = r.nextInt(3) == 0 ? (byte) r.nextInt(256) : fill;
            }
            d = "overwrite " + len + " bytes at " + pos;
        } else if (strategy < 28) {
            int cut = r.nextInt(4) > 0 ? r.nextInt(img.dataStart + 1) : r.nextInt(b.length);
            b = Arrays.copyOf(b, cut);
            d = "truncate to " + cut;
        } else if (strategy < 46) {
            d = editValueInPlace(r, img, b);
        } else if (strategy < 60) {
            d = editTensorInfo(r, img, b, s.bytes().length);
        } else if (strategy < 63) {
            int field = r.nextBoolean() ? 8 : 16;
            long v = pickLong(r);
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(field, v);
            d = (field == 8 ? "tensor count " : "metadata count ") + v;
        } else if (strategy < 84) {
            GgufImage copy = img.copy();
            d = rewriteHyperparameter(r, copy);
            b = copy.build();
        } else if (strategy < 96) {
            d = poisonData(r, img, b);
        } else {
            List<HostileFiles.Case> cases = HostileFiles.cases();
            HostileFiles.Case c = cases.get(r.nextInt(cases.size()));
            // the hand-made edits assume the bundled model's names and sizes; the rest fall back to it
            b = c.build(s.name().equals("stories260K.gguf") ? img : seeds.getFirst().image());
            d = "handmade: " + c.name();
        }
        return new Mutant(index, s.name(), d, b, r.nextInt(8) == 0);
    }

    private static long pickLong(Random r) {
        return r.nextInt(5) == 0 ? r.nextLong() : LONGS[r.nextInt(LONGS.length)];
    }

    private static float pickFloat(Random r) {
        return r.nextInt(6) == 0 ? Float.intBitsToFloat(r.nextInt()) : FLOATS[r.nextInt(FLOATS.length)];
    }

    /** One metadata entry changed where it lies: value, type id, array element type or length. */
    private static String editValueInPlace(Random r, GgufImage img, byte[] b) {
        List<GgufImage.Entry> entries = img.entries;
        GgufImage.Entry e = null;
        if (r.nextBoolean()) {
            String key = TARGET_KEYS[r.nextInt(TARGET_KEYS.length)];
            e = img.entry(key);
        }
        if (e == null) {
            e = entries.get(r.nextInt(entries.size()));
        }
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int kind = r.nextInt(10);
        if (kind == 0) {
            int t = r.nextInt(3) == 0 ? r.nextInt() : r.nextInt(14);
            bb.putInt(e.typePos(), t);
            return "value-type of " + e.key() + " -> " + t;
        }
        if (kind == 1) {
            // the key's length field
            long v = pickLong(r);
            bb.putLong(e.keyPos(), v);
            return "value-keylength of " + e.key() + " -> " + v;
        }
        int p = e.valuePos();
        switch (e.type()) {
            case GgufImage.UINT8, GgufImage.INT8, GgufImage.BOOL -> {
                b[p] = (byte) pickLong(r);
                return "value " + e.key() + " -> byte " + b[p];
            }
            case GgufImage.UINT16, GgufImage.INT16 -> {
                bb.putShort(p, (short) pickLong(r));
                return "value " + e.key() + " -> short " + bb.getShort(p);
            }
            case GgufImage.UINT32, GgufImage.INT32 -> {
                long v = pickLong(r);
                bb.putInt(p, (int) v);
                return "value " + e.key() + " -> u32 " + Integer.toUnsignedString((int) v);
            }
            case GgufImage.FLOAT32 -> {
                float v = pickFloat(r);
                bb.putFloat(p, v);
                return "value " + e.key() + " -> f32 " + v;
            }
            case GgufImage.UINT64, GgufImage.INT64 -> {
                long v = pickLong(r);
                bb.putLong(p, v);
                return "value " + e.key() + " -> u64 " + Long.toUnsignedString(v);
            }
            case GgufImage.FLOAT64 -> {
                double v = pickFloat(r);
                bb.putDouble(p, v);
                return "value " + e.key() + " -> f64 " + v;
            }
            case GgufImage.STRING -> {
                if (r.nextBoolean()) {
                    long v = pickLong(r);
                    bb.putLong(p, v);
                    return "value-strlen " + e.key() + " -> " + v;
                }
                int len = (int) bb.getLong(p);
                if (len > 0) {
                    int at = p + 8 + r.nextInt(len);
                    b[at] = (byte) r.nextInt(256);
                    return "value-strbyte " + e.key() + " at " + at;
                }
                return "value-none " + e.key();
            }
            case GgufImage.ARRAY -> {
                int choice = r.nextInt(4);
                if (choice == 0) {
                    int t = r.nextInt(14);
                    bb.putInt(p, t);
                    return "value-elemtype " + e.key() + " -> " + t;
                }
                if (choice == 1) {
                    long v = r.nextBoolean() ? pickLong(r) : bb.getLong(p + 4) + r.nextInt(5) - 2;
                    bb.putLong(p + 4, v);
                    return "value-arraylen " + e.key() + " -> " + v;
                }
                // an element: a token type, score, or a byte inside the token strings
                int elem = bb.getInt(p);
                long n = bb.getLong(p + 4);
                if (n == 0) {
                    return "value-none " + e.key();
                }
                int i = r.nextInt((int) Math.min(n, Integer.MAX_VALUE));
                switch (elem) {
                    case GgufImage.INT32, GgufImage.UINT32 -> {
                        int v = r.nextInt(3) == 0 ? (int) pickLong(r) : r.nextInt(8);
                        bb.putInt(p + 12 + 4 * i, v);
                        return "value-element " + e.key() + "[" + i + "] -> " + v;
                    }
                    case GgufImage.FLOAT32 -> {
                        float v = pickFloat(r);
                        bb.putFloat(p + 12 + 4 * i, v);
                        return "value-element " + e.key() + "[" + i + "] -> " + v;
                    }
                    default -> {
                        int end = e.valuePos() + e.value().length;
                        int at = p + 12 + r.nextInt(Math.max(1, end - p - 12));
                        b[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : b[at] ^ (1 << r.nextInt(8)));
                        return "value-elementbyte " + e.key() + " at " + at;
                    }
                }
            }
            default -> {
                return "value-none " + e.key();
            }
        }
    }

    /** One tensor-info field changed where it lies: dimension count, a dimension, the type or the offset. */
    private static String editTensorInfo(Random r, GgufImage img, byte[] b, long fileSize) {
        GgufImage.Tensor t = img.tensors.get(r.nextInt(img.tensors.size()));
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        switch (r.nextInt(6)) {
            case 0 -> {
                int v = r.nextInt(3) == 0 ? r.nextInt() : r.nextInt(6);
                bb.putInt(t.ndimsPos(), v);
                return "tensor-ndims " + t.name() + " -> " + v;
            }
            case 1, 2 -> {
                int d = r.nextInt(t.dimPos().length);
                long v = r.nextBoolean() ? pickLong(r) : t.shape()[d] + new long[] {-1, 1, 32, -32, 256}[r.nextInt(5)];
                bb.putLong(t.dimPos()[d], v);
                return "tensor-dim " + t.name() + "[" + d + "] -> " + v;
            }
            case 3 -> {
                int v = r.nextInt(4) == 0 ? r.nextInt() : new int[] {0, 1, 2, 3, 6, 7, 8, 9, 10, 12, 13, 14, 15, 24, 26, 30, 31, 40}[r.nextInt(18)];
                bb.putInt(t.typePos(), v);
                return "tensor-type " + t.name() + " -> " + v;
            }
            default -> {
                long v = switch (r.nextInt(4)) {
                    case 0 -> pickLong(r);
                    case 1 -> t.offset() + new long[] {32, -32, 1, 64, 4096}[r.nextInt(5)];
                    case 2 -> fileSize - img.dataStart - t.data().length + new long[] {0, 32, -32}[r.nextInt(3)];
                    default -> img.tensors.get(r.nextInt(img.tensors.size())).offset();
                };
                bb.putLong(t.offsetPos(), v);
                return "tensor-offset " + t.name() + " -> " + v;
            }
        }
    }

    /** A hyper-parameter (or tokenizer key) replaced, inserted with any value type, or removed; a tensor dropped or doubled. */
    private static String rewriteHyperparameter(Random r, GgufImage img) {
        int kind = r.nextInt(12);
        if (kind == 0) {
            GgufImage.Entry e = img.entries.get(r.nextInt(img.entries.size()));
            img.remove(e.key());
            return "rewrite: remove " + e.key();
        }
        if (kind == 1) {
            GgufImage.Tensor t = img.tensors.get(r.nextInt(img.tensors.size()));
            if (r.nextBoolean()) {
                img.tensors.remove(t);
                return "rewrite: drop tensor " + t.name();
            }
            img.tensors.add(t);
            return "rewrite: duplicate tensor " + t.name();
        }
        if (kind == 2) {
            GgufImage.Entry e = img.entries.get(r.nextInt(img.entries.size()));
            img.entries.add(new GgufImage.Entry(e.key(), e.type(), e.value()));
            return "rewrite: duplicate key " + e.key();
        }
        String key = TARGET_KEYS[r.nextInt(TARGET_KEYS.length)];
        if (key.equals("tokenizer.ggml.token_type") || key.equals("tokenizer.ggml.tokens") || key.equals("tokenizer.ggml.scores")) {
            key = "llama.rope.freq_base";
        }
        if (key.equals("llama.rope.scaling.factor") && r.nextBoolean()) {
            img.putString("llama.rope.scaling.type", "linear");
        }
        int type = new int[] {GgufImage.UINT32, GgufImage.UINT32, GgufImage.INT32, GgufImage.UINT64, GgufImage.INT64,
            GgufImage.FLOAT32, GgufImage.FLOAT32, GgufImage.FLOAT64, GgufImage.BOOL, GgufImage.STRING, GgufImage.UINT8,
            GgufImage.INT16}[r.nextInt(12)];
        long lv = pickLong(r);
        float fv = pickFloat(r);
        String shown;
        byte[] value = switch (type) {
            case GgufImage.UINT32, GgufImage.INT32 -> {
                shown = Integer.toUnsignedString((int) lv);
                yield GgufImage.u32(lv);
            }
            case GgufImage.UINT64, GgufImage.INT64 -> {
                shown = Long.toUnsignedString(lv);
                yield GgufImage.u64(lv);
            }
            case GgufImage.FLOAT32 -> {
                shown = String.valueOf(fv);
                yield GgufImage.f32(fv);
            }
            case GgufImage.FLOAT64 -> {
                shown = String.valueOf((double) fv);
                yield GgufImage.f64(fv);
            }
            case GgufImage.BOOL, GgufImage.UINT8 -> {
                shown = String.valueOf(lv & 0xFF);
                yield new byte[] {(byte) lv};
            }
            case GgufImage.INT16 -> {
                shown = String.valueOf((short) lv);
                yield new byte[] {(byte) lv, (byte) (lv >> 8)};
            }
            default -> {
                String sv = new String[] {"", "llama", "qwen2", "qwen3", "gpt2", "linear", "llama3", "yarn", "gemma",
                    "\u0000", "x".repeat(300)}[r.nextInt(11)];
                shown = "\"" + (sv.length() > 12 ? sv.substring(0, 12) + "..." : sv) + "\"";
                yield GgufImage.str(sv);
            }
        };
        img.put(key, type, value);
        if (key.equals("general.alignment") && type != GgufImage.FLOAT32 && type != GgufImage.FLOAT64
                && type != GgufImage.STRING && lv > 0 && lv <= 4096 && Long.bitCount(lv) == 1) {
            img.alignment = (int) lv; // a valid alignment: lay the data out with it
        }
        return "rewrite: " + key + " = " + typeName(type) + " " + shown;
    }

    private static String typeName(int type) {
        return new String[] {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"}[type];
    }

    /** NaN or an infinity written into tensor data: a float, a half, or a block-quant scale. */
    private static String poisonData(Random r, GgufImage img, byte[] b) {
        GgufImage.Tensor t = img.tensors.get(r.nextInt(img.tensors.size()));
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int[] block = GgufImage.block(t.type());
        int blocks = t.data().length / block[1];
        int at = t.dataPos() + r.nextInt(blocks) * block[1];
        String what;
        if (r.nextInt(5) == 0) {
            // anything at any place: mostly finite garbage, which must run or be rejected, never crash
            at = t.dataPos() + r.nextInt(t.data().length - 1);
            bb.putShort(at, (short) r.nextInt(65536));
            what = "garbage";
        } else if (t.type() == 0) {
            float v = new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}[r.nextInt(3)];
            bb.putFloat(at, v);
            what = String.valueOf(v);
        } else {
            short half = new short[] {0x7E00, 0x7C00, (short) 0xFC00}[r.nextInt(3)];
            if (t.type() == 30) {
                half = new short[] {0x7FC0, 0x7F80, (short) 0xFF80}[r.nextInt(3)]; // BF16 NaN, +Inf, -Inf
            }
            // Q6_K keeps its scale last; the other block types (and F16) start with it
            int scaleAt = t.type() == 14 ? at + block[1] - 2 : at;
            bb.putShort(scaleAt, half);
            what = String.format("half 0x%04X", half & 0xFFFF);
        }
        return "poison " + t.name() + " at " + (at - t.dataPos()) + " with " + what;
    }
}
