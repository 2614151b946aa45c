package dev.think4j.tokenizer;

/** Interim contract (replaced by the tokenizer branch): incremental decode that never splits UTF-8. */
public interface StreamingDecoder {
    String push(int id);

    String flush();
}
