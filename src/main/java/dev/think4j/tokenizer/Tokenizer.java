package dev.think4j.tokenizer;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;

/**
 * Interim contract: the implementation (SentencePiece-BPE and byte-level BPE from GGUF metadata)
 * lands with the tokenizer branch, which replaces this file.
 */
public interface Tokenizer {
    static Tokenizer fromGguf(GgufFile gguf) {
        throw new Think4jException("tokenizer not available in this build yet");
    }

    int[] encode(String text, boolean addBos, boolean parseSpecial);

    String decode(int[] ids);

    byte[] tokenBytes(int id);

    int bos();

    int eos();

    boolean isEndOfGeneration(int id);

    int vocabSize();

    String tokenText(int id);

    int tokenId(String text);

    StreamingDecoder newStreamingDecoder();
}
