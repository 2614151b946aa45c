package dev.think4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import dev.think4j.gguf.GgufFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cases beyond the shipped vectors, with the ids llama.cpp's llama-tokenize printed for them
 * (--no-bos / --no-parse-special as the flags say): contractions, emoji, CJK, digit and whitespace
 * runs, special-token text with and without special parsing, and whole rendered chats.
 */
class TokenizerReferenceTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("llama-bpe", "he's HERE'S THEY'RE we'Ve i'D", false, false,
                        new int[] {383, 596, 19804, 13575, 63593, 95253, 584, 6, 43712, 602, 28805}),
                Arguments.of("llama-bpe", "🦙🚀🇫🇷👨‍👩‍👧", false, false, new int[] {9468, 99, 247, 9468, 248, 222, 9468, 229, 104,
                    9468, 229, 115, 9468, 239, 101, 102470, 9468, 239, 102, 102470, 9468, 239, 100}),
                Arguments.of("llama-bpe", "日本語の文章 한국어 中文", true, false,
                        new int[] {128000, 102433, 102158, 16144, 83125, 104008, 32179, 73958, 17161}),
                Arguments.of("llama-bpe", "1234567890123 3.14159", false, false, new int[] {4513, 10961, 16474, 11531, 18, 220, 18, 13, 9335, 2946}),
                Arguments.of("llama-bpe", "   \n\n\t  x   ", false, false, new int[] {35033, 3762, 865, 262}),
                Arguments.of("llama-bpe", "<|eot_id|><|start_header_id|>", false, false,
                        new int[] {27, 91, 68, 354, 851, 91, 1822, 91, 2527, 8932, 851, 91, 29}),
                Arguments.of("llama-bpe", "<|eot_id|><|start_header_id|>", true, true, new int[] {128000, 128009, 128006}),
                Arguments.of("llama-bpe", "Hello <|eot_id|> 🦙", true, true, new int[] {128000, 9906, 220, 128009, 11410, 99, 247}),
                Arguments.of("llama-bpe", "<think>\nok</think>", false, true, new int[] {14023, 771, 397, 564, 524, 27963, 29}),
                Arguments.of("qwen2", "he's HERE'S THEY'RE we'Ve i'D", false, false,
                        new int[] {383, 594, 19249, 13272, 62493, 94153, 582, 6, 42612, 600, 27705}),
                Arguments.of("qwen2", "🦙🚀🇫🇷👨‍👩‍👧", false, false,
                        new int[] {149955, 145836, 145919, 145070, 145367, 378, 235, 145233, 378, 235, 145665}),
                Arguments.of("qwen2", "日本語の文章 한국어 中文", true, false,
                        new int[] {101059, 102819, 15767, 82025, 130092, 31079, 72858, 16744}),
                Arguments.of("qwen2", "1234567890123 3.14159", false, false,
                        new int[] {16, 17, 18, 19, 20, 21, 22, 23, 24, 15, 16, 17, 18, 220, 18, 13, 16, 19, 16, 20, 24}),
                Arguments.of("qwen2", "   \n\n\t  x   ", false, false, new int[] {33933, 3677, 856, 262}),
                Arguments.of("qwen2", "<|im_start|>user<|im_end|>", false, false,
                        new int[] {27, 91, 318, 4906, 91, 29, 872, 27, 91, 318, 6213, 91, 29}),
                Arguments.of("qwen2", "<|im_start|>user<|im_end|>", true, true, new int[] {151644, 872, 151645}),
                // user-defined tokens are cut out even without special parsing
                Arguments.of("qwen2", "<think>\nok</think>", false, false, new int[] {151667, 198, 562, 151668}),
                // SentencePiece puts its dummy space back after a special token
                Arguments.of("llama-spm", "hello</s>hello", false, true, new int[] {22172, 2, 22172}));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesTheReferenceTokenizer(String vocab, String text, boolean addBos, boolean parseSpecial, int[] expected) {
        Tokenizer tok = LOADED.computeIfAbsent(vocab, v -> {
            try (GgufFile gguf = GgufFile.open(SharedFixtures.require("tokenizers/ggml-vocab-" + v + ".gguf"))) {
                return Tokenizer.fromGguf(gguf);
            }
        });
        assertThat(tok.encode(text, addBos, parseSpecial)).as(TokenizerVectorsTest.escape(text)).containsExactly(expected);
    }

    /** Loaded once per vocabulary: the tokenizer keeps no reference to the file once built. */
    private static final java.util.Map<String, Tokenizer> LOADED = new java.util.concurrent.ConcurrentHashMap<>();

    static final List<ChatMessage> CHAT = List.of(new ChatMessage("system", "You are terse. Don't say 'RE."),
            new ChatMessage("user", "Hi! 日本語 🦙 12345678 <think>x</think>"), new ChatMessage("assistant", "Hello.\n\n  Sure:"),
            new ChatMessage("user", "Tell me a story about <|eot_id|> and <|im_end|>."));

    /** The rendered chat, encoded as the chat and server paths do, gives llama-tokenize's ids for the same text. */
    @Test
    void renderedChatsEncodeLikeTheReference() throws Exception {
        assertChat("ggml-vocab-llama-bpe.gguf", "meta-llama-Llama-3.1-8B-Instruct.jinja", new int[] {128000, 128006, 9125, 128007, 271,
            38766, 1303, 33025, 2696, 25, 6790, 220, 2366, 18, 198, 15724, 2696, 25, 220, 1627, 10263, 220, 2366, 19, 271, 2675, 527,
            51637, 13, 4418, 956, 2019, 364, 793, 13, 128009, 128006, 882, 128007, 271, 13347, 0, 105180, 102158, 11410, 99, 247, 220,
            4513, 10961, 2495, 366, 27963, 29357, 524, 27963, 29, 128009, 128006, 78191, 128007, 271, 9906, 382, 220, 23371, 25, 128009,
            128006, 882, 128007, 271, 41551, 757, 264, 3446, 922, 220, 128009, 323, 83739, 318, 6345, 91, 14611, 128009, 128006, 78191,
            128007, 271});
        assertChat("ggml-vocab-qwen2.gguf", "Qwen-Qwen2.5-7B-Instruct.jinja", new int[] {151644, 8948, 198, 2610, 525, 50537, 13, 4320,
            944, 1977, 364, 787, 13, 151645, 198, 151644, 872, 198, 13048, 0, 75402, 21894, 102819, 11162, 99, 247, 220, 16, 17, 18, 19,
            20, 21, 22, 23, 220, 151667, 87, 151668, 151645, 198, 151644, 77091, 198, 9707, 382, 220, 22555, 25, 151645, 198, 151644,
            872, 198, 40451, 752, 264, 3364, 911, 82639, 68, 354, 842, 91, 29, 323, 220, 151645, 13, 151645, 198, 151644, 77091, 198});
    }

    private static void assertChat(String vocab, String template, int[] expected) throws Exception {
        Path t = SharedFixtures.require("chat-templates/" + template);
        try (GgufFile gguf = GgufFile.open(SharedFixtures.require("tokenizers/" + vocab))) {
            Tokenizer tok = Tokenizer.fromGguf(gguf);
            ChatFormat f = ChatFormat.detect(Files.readString(t), tok);
            assertThat(tok.encode(f.render(CHAT, true), f.addBos(), true)).as(template).containsExactly(expected);
        }
    }

    /**
     * 100 KB texts that form one huge pre-token (CJK and emoji have no spaces) must encode in
     * near-linear time: pairwise merging by rescanning would take minutes here. The bounds are
     * loose on purpose (the machine is shared); the real cost is tens of milliseconds.
     */
    @Test
    void longTextsAreNotQuadratic() {
        Path p = SharedFixtures.require("tokenizers/ggml-vocab-llama-bpe.gguf");
        SplittableRandom rnd = new SplittableRandom(3);
        StringBuilder cjk = new StringBuilder();
        StringBuilder emoji = new StringBuilder();
        StringBuilder digits = new StringBuilder();
        while (cjk.length() < 35_000) {
            cjk.appendCodePoint(0x4E00 + rnd.nextInt(0x5000));
        }
        while (emoji.length() < 50_000) {
            emoji.appendCodePoint(0x1F300 + rnd.nextInt(0x300));
        }
        while (digits.length() < 100_000) {
            digits.append((char) ('0' + rnd.nextInt(10)));
        }
        long t0 = System.nanoTime();
        try (GgufFile gguf = GgufFile.open(p)) {
            Tokenizer tok = Tokenizer.fromGguf(gguf);
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            assertThat(loadSeconds).as("loading 280K merges").isLessThan(10);
            for (String text : List.of(cjk.toString(), emoji.toString(), digits.toString(), " ".repeat(100_000) + "x")) {
                long t1 = System.nanoTime();
                int[] ids = tok.encode(text, false, false);
                double seconds = (System.nanoTime() - t1) / 1e9;
                assertThat(seconds).as("encoding %d chars", text.length()).isLessThan(10);
                assertThat(tok.decode(ids)).isEqualTo(text);
            }
        }
    }
}
