package dev.think4j.generate;

import dev.think4j.tokenizer.StreamingDecoder;
import dev.think4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The per-token part of generation, shared by {@link Session} and the server's batched scheduler:
 * sample from logits, end on end-of-generation or stop tokens, decode text as complete UTF-8, hold
 * back and cut stop strings, and end on max tokens or a full context.
 */
public final class TokenStepper {
    private final Tokenizer tokenizer;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final StopStringMatcher stops;
    private final int[] stopTokens;
    private final int maxTokens;
    private int[] output = new int[16];
    private int produced;
    /** Alternatives per token to report, or -1 when log-probs are off. */
    private int topLogprobs = -1;
    /** Ids that may never be sampled (see {@link #maskTokens}), or null. */
    private int[] masked;
    /** One entry per output id while log-probs are on. */
    private final List<TokenLogprobs> logprobs = new ArrayList<>();
    private int drained;

    public TokenStepper(Tokenizer tokenizer, SamplerConfig sampler, List<String> stopStrings, int[] stopTokens, int maxTokens) {
        this.tokenizer = tokenizer;
        this.sampler = new Sampler(sampler);
        this.decoder = tokenizer.newStreamingDecoder();
        this.stops = new StopStringMatcher(stopStrings == null ? List.of() : stopStrings);
        this.stopTokens = stopTokens == null ? new int[0] : stopTokens;
        this.maxTokens = maxTokens;
    }

    /**
     * Records, for every output token, its log-probability and the {@code top} most likely tokens
     * (see {@link TokenLogprobs} for which distribution); {@code top} in 0..{@link TokenLogprobs#MAX_TOP}.
     * Sampling itself is unchanged.
     */
    public TokenStepper withLogprobs(int top) {
        this.topLogprobs = TokenLogprobs.checkTop(top, "top log-probs");
        return this;
    }

    /** Never samples these ids (their logits become -inf after log-probs are taken from the raw ones). */
    public void maskTokens(int[] ids) {
        this.masked = ids;
    }

    /**
     * Samples the next token from {@code logits} ({@code history} feeds the repetition penalty) and
     * passes its text to {@code onText}. Returns why generation ends, or null when {@link #token()}
     * is to be fed to the model next. {@code tokensHeld} is what counts against {@code contextLength}.
     */
    public StopReason step(float[] logits, int[] history, int historyLength, int tokensHeld, int contextLength,
                           Consumer<String> onText) {
        // the sampler rewrites logits in place (penalty), and log-probs are of the raw ones
        float[] raw = topLogprobs >= 0 ? logits.clone() : null;
        if (masked != null) {
            for (int id : masked) {
                logits[id] = Float.NEGATIVE_INFINITY;
            }
        }
        int next = sampler.sample(logits, history, historyLength);
        if (tokenizer.isEndOfGeneration(next) || contains(stopTokens, next)) {
            return StopReason.EOS;
        }
        if (produced == output.length) {
            output = Arrays.copyOf(output, produced * 2);
        }
        output[produced++] = next;
        if (raw != null) {
            // before the text goes out, so that a text callback can drain this token's entry with it
            logprobs.add(TokenLogprobs.of(raw, 0, raw.length, next, topLogprobs));
        }
        emit(stops.accept(decoder.push(next)), onText);
        if (stops.matched()) {
            return StopReason.STOP;
        }
        if (produced >= maxTokens) {
            return StopReason.LENGTH;
        }
        if (tokensHeld + 1 > contextLength) {
            return StopReason.CONTEXT;
        }
        return null;
    }

    /** Generation ended: text held back (an unfinished character, a possible stop-string start) is final now. */
    public void finish(StopReason reason, Consumer<String> onText) {
        if (reason != StopReason.STOP) {
            emit(stops.finish(decoder.flush()), onText);
        }
    }

    /** The token sampled by the last {@link #step} that did not end generation. */
    public int token() {
        return output[produced - 1];
    }

    public int produced() {
        return produced;
    }

    public int[] outputIds() {
        return Arrays.copyOf(output, produced);
    }

    /** Log-probs of every output token so far (empty unless {@link #withLogprobs} was called). */
    public List<TokenLogprobs> logprobs() {
        return List.copyOf(logprobs);
    }

    /**
     * Log-probs of the output tokens since the previous call: a streaming caller attaches them to the
     * text it sends, so each chunk carries the tokens that completed it.
     */
    public List<TokenLogprobs> drainLogprobs() {
        if (drained == logprobs.size()) {
            return List.of();
        }
        List<TokenLogprobs> out = List.copyOf(logprobs.subList(drained, logprobs.size()));
        drained = logprobs.size();
        return out;
    }

    private static void emit(String text, Consumer<String> onText) {
        if (!text.isEmpty() && onText != null) {
            onText.accept(text);
        }
    }

    private static boolean contains(int[] ids, int id) {
        for (int i : ids) {
            if (i == id) {
                return true;
            }
        }
        return false;
    }
}
