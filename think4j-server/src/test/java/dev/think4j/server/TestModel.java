package dev.think4j.server;

import dev.think4j.model.Model;
import dev.think4j.tokenizer.ChatFormat;
import dev.think4j.tokenizer.Tokenizer;
import java.nio.file.Path;

/** The bundled stories260K model, loaded once for all server tests (it is read-only). */
final class TestModel {
    static final Model MODEL = Model.load(Path.of("models", "stories260K.gguf").toAbsolutePath());
    static final Tokenizer TOKENIZER = Tokenizer.fromGguf(MODEL.gguf());
    static final ChatFormat FORMAT = ChatFormat.detect(MODEL.gguf().getString("tokenizer.chat_template", null), TOKENIZER);
    static final String ID = "stories260K";
    static final long DENSE_PER_TOKEN = MODEL.kvShape().denseBytesPerToken();

    private TestModel() {
    }

    static InferenceServer start(long budget, int maxQueue, int maxBatch, int prefixEntries) {
        return InferenceServer.start(new ServerConfig("127.0.0.1", 0, budget, "full", maxQueue, maxBatch,
                MODEL.config().contextLength(), prefixEntries, ID), MODEL, TOKENIZER, FORMAT);
    }
}
