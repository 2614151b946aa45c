package dev.think4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.SharedFixtures;
import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Gemma 3 and Phi-3/3.5/4-mini formats render byte for byte what the models' own chat templates render. The
 * templates (test resources, sources in SOURCES.md) were rendered by Python's jinja2 the way
 * transformers' apply_chat_template runs them ({@code tools/render_chat_templates.py}), over
 * multi-turn conversations with and without a system message, with and without a generation
 * prompt, with whitespace-padded and multi-line contents.
 */
class ChatTemplateRenderingTest {
    static final Tokenizer GEMMA = new FixedVocabulary(List.of("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"), 2, 1);
    static final Tokenizer PHI3 = new FixedVocabulary(List.of("<unk>", "<s>", "</s>", "<|endoftext|>", "<|assistant|>", "<|end|>",
            "<|system|>", "<|user|>"), 1, 3);

    @Test
    void everyRenderingMatchesJinja() throws IOException {
        JsonNode cases;
        try (InputStream in = resource("chat-template-renderings.json")) {
            cases = new ObjectMapper().readTree(in).get("cases");
        }
        int compared = 0;
        for (JsonNode c : cases) {
            String file = c.get("template").asText();
            Tokenizer tok = file.contains("gemma") ? GEMMA : PHI3;
            ChatFormat f = ChatFormat.detect(template(file), tok);
            assertThat(f.name()).isEqualTo(file.contains("gemma") ? "gemma" : file.contains("Phi-4") ? "phi4" : "phi3");
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode m : c.get("messages")) {
                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
            }
            boolean gen = c.get("add_generation_prompt").asBoolean();
            if (c.get("rendered").isNull()) {
                assertThatThrownBy(() -> f.render(messages, gen)).as("%s %s", file, messages)
                        .isInstanceOf(Think4jException.class).hasMessageContaining("alternate");
            } else {
                assertThat(f.render(messages, gen)).as("%s %s", file, messages).isEqualTo(c.get("rendered").asText());
            }
            compared++;
        }
        assertThat(compared).isEqualTo(36);
    }

    @Test
    void stopTokensAndBos() throws IOException {
        ChatFormat gemma = ChatFormat.detect(template("google-gemma-3-it.jinja"), GEMMA);
        assertThat(gemma.stopTokens()).containsExactly(5, 1);
        assertThat(gemma.addBos()).as("the template writes <bos> itself").isFalse();
        ChatFormat phi = ChatFormat.detect(template("microsoft-Phi-3-mini-4k-instruct.jinja"), PHI3);
        assertThat(phi.stopTokens()).containsExactly(5, 3);
        assertThat(phi.addBos()).isTrue();
        // a GGUF without a template is recognised by its special tokens
        assertThat(ChatFormat.detect(null, GEMMA).name()).isEqualTo("gemma");
        assertThat(ChatFormat.detect(null, PHI3).name()).isEqualTo("phi3");
    }

    @Test
    void realPhi3VocabularyStopsOnEnd() {
        try (GgufFile gguf = GgufFile.open(SharedFixtures.require("tokenizers/ggml-vocab-phi-3.gguf"))) {
            Tokenizer tok = Tokenizer.fromGguf(gguf);
            ChatFormat f = ChatFormat.detect(gguf.getString("tokenizer.chat_template", null), tok);
            assertThat(f.name()).isEqualTo("phi3");
            assertThat(f.stopTokens()).containsExactly(tok.tokenId("<|end|>"), tok.tokenId("<|endoftext|>"));
            assertThat(tok.tokenId("<|end|>")).isEqualTo(32007);
            int[] ids = tok.encode(f.render(List.of(new ChatMessage("user", "Hi!")), true), f.addBos(), true);
            assertThat(ids).contains(tok.tokenId("<|user|>"), tok.tokenId("<|end|>"), tok.tokenId("<|assistant|>"));
        }
    }

    static InputStream resource(String name) {
        return ChatTemplateRenderingTest.class.getResourceAsStream(name);
    }

    static String template(String name) throws IOException {
        try (InputStream in = resource(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Just the special tokens a chat format looks up; nothing is encoded through it. */
    record FixedVocabulary(List<String> tokens, int bos, int eos) implements Tokenizer {
        @Override
        public int[] encode(String text, boolean addBos, boolean parseSpecial) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String decode(int[] ids) {
            throw new UnsupportedOperationException();
        }

        @Override
        public byte[] tokenBytes(int id) {
            return tokens.get(id).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public boolean isEndOfGeneration(int id) {
            return id == eos;
        }

        @Override
        public int vocabSize() {
            return tokens.size();
        }

        @Override
        public String tokenText(int id) {
            return tokens.get(id);
        }

        @Override
        public int tokenId(String text) {
            return tokens.indexOf(text);
        }

        @Override
        public StreamingDecoder newStreamingDecoder() {
            throw new UnsupportedOperationException();
        }
    }
}
