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

    /**
     * Encodes text that contains no special tokens; {@code first} is true at the start of the input
     * and right after a special token (where SentencePiece adds its dummy-prefix space again).
     */
    protected abstract void encodeFragment(String text, boolean first, List<Integer> out);

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        List<Integer> out = new ArrayList<>();
        if (addBos && vocab.addBos && vocab.bos >= 0) {
            out.add(vocab.bos);
        }
        boolean first = true;
        for (Object fragment : partition(text, parseSpecial)) {
            if (fragment instanceof Integer id) {
                out.add(id);
                first = true;
            } else {
                encodeFragment((String) fragment, first, out);
                first = false;
            }
        }
        int[] ids = new int[out.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = out.get(i);
        }
        return ids;
    }

    /**
     * Splits text into plain strings and special-token ids the way the reference engine does: each
     * special token in turn, longest first, is cut out of every remaining text fragment. User-defined
     * tokens (e.g. Qwen's {@code <think>}) are always cut out; control and unknown tokens only when
     * {@code parseSpecial} is set.
     */
    private List<Object> partition(String text, boolean parseSpecial) {
        List<Object> fragments = new ArrayList<>();
        if (!text.isEmpty()) {
            fragments.add(text);
        }
        for (int id : vocab.specials) {
            if (!parseSpecial && vocab.types[id] != Vocabulary.USER_DEFINED) {
                continue;
            }
            String special = vocab.tokens[id];
            List<Object> next = null;
            for (int f = 0; f < fragments.size(); f++) {
                Object fragment = fragments.get(f);
                int at = fragment instanceof String s ? s.indexOf(special) : -1;
                if (at < 0) {
                    if (next != null) {
                        next.add(fragment);
                    }
                    continue;
                }
                if (next == null) {
                    next = new ArrayList<>(fragments.subList(0, f));
                }
                String s = (String) fragment;
                int from = 0;
                while (at >= 0) {
                    if (at > from) {
                        next.add(s.substring(from, at));
                    }
                    next.add(id);
                    from = at + special.length();
                    at = s.indexOf(special, from);
                }
                if (from < s.length()) {
                    next.add(s.substring(from));
                }
            }
            if (next != null) {
                fragments = next;
            }
        }
        return fragments;
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
