package dev.think4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.SharedFixtures;
import dev.think4j.gguf.GgmlType;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each architecture against llama.cpp, teacher-forced: a synthetic F32 model (rebuilt here from the
 * shape, seed and weight scale the fixture names; its SHA-256 must equal the file llama.cpp read) is
 * fed llama.cpp's own greedy continuation, and at every one of the 256 generated positions
 * <ul>
 *   <li>each of llama.cpp's top-5 log-probs must equal ours within the tolerance, and no other token
 *       may beat llama.cpp's fifth by more than the tolerance (same top-5 up to near-ties);</li>
 *   <li>our greedy choice (with the tokens llama.cpp's request banned, {@code masked_ids}, excluded)
 *       must be llama.cpp's, except at a near-tie: our log-probs of the two differ by less than the
 *       tolerance.</li>
 * </ul>
 * Fixtures come from {@code tools/llamacpp_logprob_fixture.sh} (llama.cpp with an F32 KV cache and no
 * flash attention), so llama.cpp is not needed here. Tolerance: 1e-3 absolute in log-probability for
 * F32 weights; the measured maxima are printed and listed in the README's table.
 */
class ArchitectureReferenceTest {
    static final double TOLERANCE = 1e-3;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static Stream<Arguments> fixtures() {
        return Stream.of(
                Arguments.of("tiny-llama31"),
                Arguments.of("tiny-mistral"),
                Arguments.of("tiny-qwen2"),
                Arguments.of("tiny-qwen3"),
                Arguments.of("tiny-phi-short"),
                Arguments.of("tiny-phi-long"),
                Arguments.of("tiny-smollm3"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void teacherForcedLogProbsMatchLlamaCpp(String name) throws IOException {
        Result r = compare(name, dir, TOLERANCE);
        System.out.printf(Locale.ROOT, "%s: %d positions, max |dlogprob| %.2e, near-tie flips %d%n",
                name, r.positions(), r.maxDiff(), r.flips());
    }

    /** What one comparison saw. */
    record Result(int positions, double maxDiff, int flips) {
    }

    /** Loads fixture {@code name}, rebuilds its model under {@code dir} and checks every position. */
    static Result compare(String name, Path dir, double tolerance) throws IOException {
        JsonNode fx = fixture(name);
        Path modelPath = rebuild(fx, dir);
        int[] prompt = ints(fx.get("prompt_ids"));
        int[] generated = ints(fx.get("tokens"));
        JsonNode top5 = fx.get("top5");
        assertThat(generated.length).as("%s: positions", name).isGreaterThanOrEqualTo(256);
        int[] sequence = new int[prompt.length + generated.length - 1];
        System.arraycopy(prompt, 0, sequence, 0, prompt.length);
        System.arraycopy(generated, 0, sequence, prompt.length, generated.length - 1);
        try (Model model = Model.load(modelPath)) {
            int vocab = model.config().vocabSize();
            boolean[] masked = new boolean[vocab];
            for (JsonNode id : fx.get("masked_ids")) {
                masked[id.asInt()] = true;
            }
            Transformer tf = model.newTransformer(32, fx.get("ctx").asInt());
            CompressedKvCache cache = model.newCache(KvPolicy.none());
            float[] all = new float[sequence.length * vocab];
            tf.forward(sequence, 0, sequence.length, cache, null, all);
            double maxDiff = 0;
            int flips = 0;
            for (int i = 0; i < generated.length; i++) {
                int pos = prompt.length - 1 + i;
                float[] logits = java.util.Arrays.copyOfRange(all, pos * vocab, (pos + 1) * vocab);
                double[] lp = LlamaCppReferenceTest.logSoftmax(logits);
                JsonNode ref = top5.get(i);
                boolean[] inRef = new boolean[vocab];
                double fifth = Double.POSITIVE_INFINITY;
                for (JsonNode pair : ref) {
                    int id = pair.get(0).asInt();
                    double want = pair.get(1).asDouble();
                    inRef[id] = true;
                    fifth = Math.min(fifth, want);
                    double d = Math.abs(lp[id] - want);
                    maxDiff = Math.max(maxDiff, d);
                    if (!(d <= tolerance)) {
                        fail(String.format(Locale.ROOT, "%s position %d (generated token %d): log-prob of token %d is %.6f, "
                                + "llama.cpp %.6f (|diff| %.2e > %.0e)", name, pos, i, id, lp[id], want, d, tolerance));
                    }
                }
                for (int id = 0; id < vocab; id++) {
                    if (!inRef[id] && lp[id] > fifth + tolerance) {
                        fail(String.format(Locale.ROOT, "%s position %d: token %d (log-prob %.6f) is missing from llama.cpp's "
                                + "top-5, whose fifth is %.6f", name, pos, id, lp[id], fifth));
                    }
                }
                int ours = -1;
                for (int id = 0; id < vocab; id++) {
                    if (!masked[id] && (ours < 0 || logits[id] > logits[ours])) {
                        ours = id;
                    }
                }
                if (ours != generated[i]) {
                    double gap = lp[ours] - lp[generated[i]];
                    if (!(gap < tolerance)) {
                        fail(String.format(Locale.ROOT, "%s position %d: greedy token %d, llama.cpp %d (log-prob gap %.2e is no near-tie)",
                                name, pos, ours, generated[i], gap));
                    }
                    flips++;
                }
            }
            return new Result(generated.length, maxDiff, flips);
        }
    }

    static JsonNode fixture(String name) throws IOException {
        String resource = "/dev/think4j/model/reference/" + name + ".json";
        try (InputStream in = ArchitectureReferenceTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("missing fixture " + resource);
            }
            return JSON.readTree(in);
        }
    }

    /** Writes the fixture's synthetic model again and checks it is byte for byte the file llama.cpp read. */
    static Path rebuild(JsonNode fx, Path dir) throws IOException {
        String shape = fx.get("shape").asText();
        Path out = dir.resolve(shape + ".gguf");
        SyntheticModel.write(ModelShape.named(shape), GgmlType.valueOf(fx.get("type").asText()), out, fx.get("seed").asLong(),
                fx.get("std").asDouble(), SharedFixtures.bundledModel(), null);
        assertThat(sha256(out)).as("synth output for %s changed since the fixture was made; if intended, regenerate it with "
                + "tools/llamacpp_logprob_fixture.sh --shape %s", shape, shape).isEqualTo(fx.get("sha256").asText());
        return out;
    }

    static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static int[] ints(JsonNode arr) {
        return LlamaCppReferenceTest.ints(arr);
    }
}
