package dev.think4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import dev.think4j.gguf.GgufFile;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each shipped template is recognised and renders a four-turn conversation exactly as it would. */
class ChatFormatTest {
    static GgufFile gguf;
    static Tokenizer tok;
    static final List<ChatMessage> WITH_SYSTEM = List.of(new ChatMessage("system", "You are terse."),
            new ChatMessage("user", "Hi!"), new ChatMessage("assistant", "Hello."), new ChatMessage("user", "Tell me a story."));
    static final List<ChatMessage> NO_SYSTEM = WITH_SYSTEM.subList(1, 4);

    @BeforeAll
    static void load() {
        gguf = GgufFile.open(SharedFixtures.bundledModel());
        tok = Tokenizer.fromGguf(gguf);
    }

    @AfterAll
    static void close() {
        gguf.close();
    }

    static ChatFormat format(String file) throws IOException {
        return ChatFormat.detect(Files.readString(SharedFixtures.require("chat-templates/" + file)), tok);
    }

    @Test
    void llama31() throws IOException {
        ChatFormat f = format("meta-llama-Llama-3.1-8B-Instruct.jinja");
        assertThat(f.name()).isEqualTo("llama3.1");
        assertThat(f.render(WITH_SYSTEM, true)).isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are terse.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nTell me a story.<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        assertThat(f.addBos()).isFalse();
    }

    @Test
    void qwen25WithAndWithoutSystem() throws IOException {
        ChatFormat f = format("Qwen-Qwen2.5-7B-Instruct.jinja");
        assertThat(f.name()).isEqualTo("chatml");
        String turns = "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
                + "<|im_start|>user\nTell me a story.<|im_end|>\n<|im_start|>assistant\n";
        assertThat(f.render(WITH_SYSTEM, true)).isEqualTo("<|im_start|>system\nYou are terse.<|im_end|>\n" + turns);
        assertThat(f.render(NO_SYSTEM, true)).isEqualTo(
                "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n" + turns);
    }

    @Test
    void qwen3HasNoDefaultSystem() throws IOException {
        ChatFormat f = format("Qwen-Qwen3-0.6B.jinja");
        assertThat(f.render(NO_SYSTEM, true)).isEqualTo("<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
                + "<|im_start|>user\nTell me a story.<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void smolLm3MetadataHeader() throws IOException {
        ChatFormat f = format("HuggingFaceTB-SmolLM3-3B.jinja");
        assertThat(f.name()).isEqualTo("chatml-smollm3");
        assertThat(f.render(WITH_SYSTEM, true)).isEqualTo("<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June 2025\n"
                + "Reasoning Mode: /think\n\n## Custom Instructions\n\nYou are terse.\n\n<|im_end|>\n"
                + "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
                + "<|im_start|>user\nTell me a story.<|im_end|>\n<|im_start|>assistant\n");
        List<ChatMessage> noThink = List.of(new ChatMessage("system", "Be brief. /no_think"), new ChatMessage("user", "Hi!"));
        assertThat(f.render(noThink, true)).contains("Reasoning Mode: /no_think\n\n## Custom Instructions\n\nBe brief.\n\n<|im_end|>")
                .endsWith("<|im_start|>assistant\n<think>\n\n</think>\n");
        // without a system prompt the template's own default instructions appear
        assertThat(f.render(NO_SYSTEM, true)).contains("You are a helpful AI assistant named SmolLM");
    }

    @Test
    void mistralNemo() throws IOException {
        ChatFormat f = format("mistralai-Mistral-Nemo-Instruct-2407.jinja");
        assertThat(f.name()).isEqualTo("mistral");
        assertThat(f.render(WITH_SYSTEM, true)).isEqualTo("<s>[INST]Hi![/INST]Hello.</s>[INST]You are terse.\n\nTell me a story.[/INST]");
    }

    @Test
    void modelWithoutTemplateChatsInPlainText() {
        ChatFormat f = ChatFormat.detect(null, tok);
        assertThat(f.name()).isEqualTo("plain");
        assertThat(f.addBos()).isTrue();
        assertThat(f.render(NO_SYSTEM, true)).isEqualTo("Hi!Hello.\nTell me a story.");
    }
}
