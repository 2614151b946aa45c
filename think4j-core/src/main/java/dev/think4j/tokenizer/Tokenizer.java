package dev.think4j.tokenizer;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;

/**
 * Text to token ids and back, built from a GGUF file's {@code tokenizer.ggml.*} metadata:
 * SentencePiece-BPE ({@code llama}) or byte-level BPE ({@code gpt2}).
 */
public interface Tokenizer {
    static Tokenizer fromGguf(GgufFile gguf) {
        String model = gguf.getString("tokenizer.ggml.model", null);
        if (model == null) {
            throw new Think4jException(gguf.path() + ": no tokenizer in this file (missing tokenizer.ggml.model)");
        }
        return switch (model) {
            case "llama" -> new SpmTokenizer(gguf);
            case "gpt2" -> {
                BpeTokenizer.checkMerges(gguf);
                yield new BpeTokenizer(gguf);
            }
            default -> throw new Think4jException(gguf.path() + ": unsupported tokenizer model '" + GgufFile.printable(model)
                    + "' (supported: llama, gpt2)");
        };
    }

    /**
     * Token ids of {@code text}; {@code addBos} adds BOS when the vocabulary asks for it, and
     * {@code parseSpecial} turns control-token text (e.g. {@code <|eot_id|>}) into those tokens.
     */

    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** Text of the ids; control tokens decode to nothing and a leading dummy-prefix space is dropped. */
    String decode(int[] ids);

    /** The UTF-8 bytes one token contributes to decoded text. */
    byte[] tokenBytes(int id);

    int bos();

    int eos();

    /** EOS, end-of-turn and similar tokens that end a generation. */
    boolean isEndOfGeneration(int id);

    int vocabSize();

    String tokenText(int id);

    /** The id of a token's exact text, or -1. */
    int tokenId(String text);

    StreamingDecoder newStreamingDecoder();
}
