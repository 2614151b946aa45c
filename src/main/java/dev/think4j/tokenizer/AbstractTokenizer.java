package dev.think4j.tokenizer;

import java.util.ArrayList;
import java.util.List;

/** What both tokenizer kinds share: special-token splitting, BOS, end-of-generation ids, streaming. */
abstract class AbstractTokenizer implements Tokenizer {
    private static final List<String> END_OF_TURN = List.of("<|eot_id|>", "<|im_end|>", "<|end_of_text|>",
            "<|endoftext|>", "<|end|>", "</s>", "<end_of_turn>", "<|eom_id|>");

    protected final Vocabulary vocab;
    private final boolean[] endOfGeneration;

    AbstractTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.endOfGeneration = new boolean[vocab.tokens.length];
        mark(vocab.eos);
        mark(vocab.eot);
        for (String name : END_OF_TURN) {
            int id = vocab.id(name);
            if (id >= 0 && vocab.isControl(id)) {
                mark(id);
            }
        }
    }

    private void mark(int id) {
        if (id >= 0 && id < endOfGeneration.length) {
            endOfGeneration[id] = true;
        }
    }

    /** Encodes text that contains no special tokens; {@code first} is true for the start of the input. */
    protected abstract void encodeFragment(String text, boolean first, List<Integer> out);

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        List<Integer> out = new ArrayList<>();
        if (addBos && vocab.addBos && vocab.bos >= 0) {
            out.add(vocab.bos);
        }
        if (!parseSpecial || vocab.specials.isEmpty()) {
            encodeFragment(text, true, out);
        } else {
            int start = 0;
            int pos = 0;
            boolean first = true;
            while (pos < text.length()) {
                String special = specialAt(text, pos);
                if (special == null) {
                    pos++;
                    continue;
                }
                if (pos > start) {
                    encodeFragment(text.substring(start, pos), first, out);
                }
                out.add(vocab.id(special));
                first = false;
                pos += special.length();
                start = pos;
            }
            if (start < text.length()) {
                encodeFragment(text.substring(start), first, out);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private String specialAt(String text, int pos) {
        for (String s : vocab.specials) {
            if (text.startsWith(s, pos)) {
                return s;
            }
        }
        return null;
    }

    @Override
    public int bos() {
        return vocab.bos;
    }

    @Override
    public int eos() {
        return vocab.eos;
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && id < endOfGeneration.length && endOfGeneration[id];
    }

    @Override
    public int vocabSize() {
        return vocab.tokens.length;
    }

    @Override
    public String tokenText(int id) {
        return id >= 0 && id < vocab.tokens.length ? vocab.tokens[id] : null;
    }

    @Override
    public int tokenId(String text) {
        return vocab.id(text);
    }

    @Override
    public StreamingDecoder newStreamingDecoder() {
        return new Utf8StreamingDecoder(this::tokenBytes);
    }
}
