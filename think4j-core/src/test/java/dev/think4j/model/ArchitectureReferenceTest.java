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
 * fed llama.cpp's own greedy continuation, both as one prefill (chunks of 32) and token by token
 * (the decode path), and at every one of the 256 generated positions (gemma3: 300, see below)
 * <ul>
 *   <li>each of llama.cpp's top-5 log-probs must equal ours within the tolerance, and no other token
 *       may beat llama.cpp's fifth by more than the tolerance (same top-5 up to near-ties);</li>
 *   <li>our greedy choice (with the tokens llama.cpp's request banned, {@code masked_ids}, excluded)
 *       must be llama.cpp's, except at a near-tie: our log-probs of the two differ by less than the
 *       tolerance.</li>
 * </ul>
 * Fixtures come from {@code tools/llamacpp_logprob_fixture.sh} (llama.cpp with an F32 KV cache and no
 * flash attention), so llama.cpp is not needed here. Tolerance: 1e-3 absolute in log-probability for
 * F32 weights (measured maxima 8e-6 to 9.5e-5, printed per fixture). Quantized weights are not
 * compared here: llama.cpp rounds activations to 8 bits for them, which on these peaked models moves
 * log-probs by up to 0.35 (Q8_0, measured), too loose to catch a wrong forward pass; the weight types
 * are pinned by the tensor tests and the stories260K / K-quant reference tests instead.
 * <p>gemma3 reads a text instead ({@code tools/llamacpp_teacher_forced.py}: its random-weight model
 * repeats one token when left to itself, which would leave the sliding windows untested), so its
 * fixture's {@code tokens} are the text and {@code greedy} holds llama.cpp's choices; 300 positions
 * with a window of 64. Its tolerance is {@link #GEMMA3_TOLERANCE}: llama.cpp evaluates GELU through
 * an FP16 lookup table, which alone moves log-probs by about 1e-3 (measured max 1.4e-3).
 */
class ArchitectureReferenceTest {
    static final double TOLERANCE = 1e-3;
    /** gemma3's: llama.cpp computes GELU through an FP16 lookup table (measured max 1.4e-3). */
    static final double GEMMA3_TOLERANCE = 5e-3;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static Stream<Arguments> fixtures() {
        return Stream.of(
                Arguments.of("tiny-llama31", TOLERANCE),
                Arguments.of("tiny-mistral", TOLERANCE),
                Arguments.of("tiny-qwen2", TOLERANCE),
                Arguments.of("tiny-qwen3", TOLERANCE),
                Arguments.of("tiny-phi-short", TOLERANCE),
                Arguments.of("tiny-phi-long", TOLERANCE),
                Arguments.of("tiny-smollm3", TOLERANCE),
                Arguments.of("tiny-gemma3", GEMMA3_TOLERANCE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void teacherForcedLogProbsMatchLlamaCpp(String name, double tolerance) throws IOException {
        Result r = compare(name, dir, tolerance);
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
        int[] greedy = fx.has("greedy") ? ints(fx.get("greedy")) : generated;
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
            int ctx = fx.get("ctx").asInt();
            // prefill path: the whole sequence in chunks of 32 (batched matrix products)
            Transformer tf = model.newTransformer(32, ctx);
            float[] all = new float[sequence.length * vocab];
            tf.forward(sequence, 0, sequence.length, model.newCache(KvPolicy.none()), null, all);
            // decode path: the prompt, then one token per step
            float[][] stepped = new float[generated.length][vocab];
            CompressedKvCache cache = model.newCache(KvPolicy.none());
            Transformer decoder = model.newTransformer(1, ctx);
            decoder.forward(prompt, 0, prompt.length, cache, stepped[0], null);
            for (int i = 1; i < generated.length; i++) {
                decoder.forward(generated, i - 1, 1, cache, stepped[i], null);
            }
            double maxDiff = 0;
            int flips = 0;
            for (int i = 0; i < 2 * generated.length; i++) {
                boolean decode = i >= generated.length;
                int g = decode ? i - generated.length : i;
                int pos = prompt.length - 1 + g;
                float[] logits = decode ? stepped[g] : java.util.Arrays.copyOfRange(all, pos * vocab, (pos + 1) * vocab);
                String where = (decode ? "decode" : "prefill") + " position " + pos;
                double[] lp = LlamaCppReferenceTest.logSoftmax(logits);
                JsonNode ref = top5.get(g);
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
                        fail(String.format(Locale.ROOT, "%s %s (generated token %d): log-prob of token %d is %.6f, "
                                + "llama.cpp %.6f (|diff| %.2e > %.0e)", name, where, g, id, lp[id], want, d, tolerance));
                    }
                }
                for (int id = 0; id < vocab; id++) {
                    if (!inRef[id] && lp[id] > fifth + tolerance) {
                        fail(String.format(Locale.ROOT, "%s %s: token %d (log-prob %.6f) is missing from llama.cpp's "
                                + "top-5, whose fifth is %.6f", name, where, id, lp[id], fifth));
                    }
                }
                int ours = -1;
                for (int id = 0; id < vocab; id++) {
                    if (!masked[id] && (ours < 0 || logits[id] > logits[ours])) {
                        ours = id;
                    }
                }
                if (ours != greedy[g]) {
                    double gap = lp[ours] - lp[greedy[g]];
                    if (!(gap < tolerance)) {
                        fail(String.format(Locale.ROOT, "%s %s: greedy token %d, llama.cpp %d (log-prob gap %.2e is no near-tie)",
                                name, where, ours, greedy[g], gap));
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
