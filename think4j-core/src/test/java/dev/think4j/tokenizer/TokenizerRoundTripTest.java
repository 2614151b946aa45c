package dev.think4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import dev.think4j.gguf.GgufFile;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** decode(encode(s)) == s on arbitrary UTF-8, and streaming decode never emits broken characters. */
class TokenizerRoundTripTest {
    static final String[] SAMPLES = {"Hello world", " leading and  double  spaces ", "emoji 🦙🚀 and flags 🇫🇷",
        "CJK 日本語の文章 한국어 中文", "combining e\u0301 and tabs\tnewlines\nmore", "control \u0001\u0002\u007f chars",
        "numbers 1234567 3.14", "", " ", "\n\n\n"};

    static String randomText(SplittableRandom rnd, int length) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < length) {
            int kind = rnd.nextInt(5);
            int cp = switch (kind) {
                case 0 -> 0x20 + rnd.nextInt(0x5f);
                case 1 -> 0xa0 + rnd.nextInt(0x2000);
                case 2 -> 0x4e00 + rnd.nextInt(0x5000);
                case 3 -> 0x1f300 + rnd.nextInt(0x300);
                default -> rnd.nextInt(0x20);
            };
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"bundled", "tokenizers/ggml-vocab-llama-spm.gguf", "tokenizers/ggml-vocab-gpt-2.gguf",
        "tokenizers/ggml-vocab-deepseek-llm.gguf", "tokenizers/ggml-vocab-llama-bpe.gguf", "tokenizers/ggml-vocab-qwen2.gguf"})
    void roundTripAndStreaming(String which) {
        Path p = which.equals("bundled") ? SharedFixtures.bundledModel() : SharedFixtures.require(which);
        try (GgufFile gguf = GgufFile.open(p)) {
            Tokenizer tok = Tokenizer.fromGguf(gguf);
            SplittableRandom rnd = new SplittableRandom(7);
            java.util.List<String> texts = new java.util.ArrayList<>(java.util.List.of(SAMPLES));
            for (int i = 0; i < 30; i++) {
                texts.add(randomText(rnd, 1 + rnd.nextInt(40)));
            }
            for (String s : texts) {
                int[] ids = tok.encode(s, false, false);
                assertThat(tok.decode(ids)).as("round trip of %s", TokenizerVectorsTest.escape(s)).isEqualTo(s);
                StreamingDecoder d = tok.newStreamingDecoder();
                StringBuilder streamed = new StringBuilder();
                for (int id : ids) {
                    String piece = d.push(id);
                    assertThat(piece).doesNotContain("\uFFFD");
                    streamed.append(piece);
                }
                streamed.append(d.flush());
                // the stream carries the dummy-prefix space that decode() drops
                String expected = tok.decode(ids);
                assertThat(streamed.toString().equals(expected) || streamed.toString().equals(" " + expected))
                        .as("stream of %s gave %s", TokenizerVectorsTest.escape(s), TokenizerVectorsTest.escape(streamed.toString()))
                        .isTrue();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Once upon a time", "Lily and Tom went to the park. They saw a big dog."})
    void bundledModelMatchesReferencePromptIds(String prompt) {
        try (GgufFile gguf = GgufFile.open(SharedFixtures.bundledModel())) {
            int[] ids = Tokenizer.fromGguf(gguf).encode(prompt, true, false);
            int[] expected = prompt.startsWith("Once") ? new int[] {1, 403, 407, 261, 378}
                    : new int[] {1, 317, 269, 274, 287, 263, 377, 267, 265, 282, 295, 433, 426, 342, 394, 261, 370, 400, 428, 426};
            assertThat(ids).containsExactly(expected);
        }
    }
}
