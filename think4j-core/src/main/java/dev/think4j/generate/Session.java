package dev.think4j.generate;

import dev.think4j.Think4jException;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import dev.think4j.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One conversation with a model: its KV cache and the ids fed so far. Each {@link #generate} call
 * prefills new prompt ids on top of what is cached (multi-turn chat reuses the compressed prefix),
 * compresses, then decodes.
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final Tokenizer tokenizer;
    private final Transformer transformer;
    private final CompressedKvCache cache;
    private final int contextLength;
    private int[] history = new int[256];
    private int historyLength;
    /** End-of-generation token ids whose logits are masked, or null (see {@link #setIgnoreEos}). */
    private int[] maskedEos;
    /** Alternatives per generated token to report, or -1 for no log-probs (see {@link #setLogprobs}). */
    private int topLogprobs = -1;
    /** Told every generated token id, before its text (see {@link #setTokenListener}), or null. */
    private java.util.function.IntConsumer tokenListener;

    public Session(Model model, Tokenizer tokenizer, KvPolicy policy, int contextLength, int chunkSize) {
        if (contextLength < 1) {
            throw new Think4jException("context length must be >= 1, got " + contextLength);
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.transformer = model.newTransformer(chunkSize, contextLength);
        this.cache = model.newCache(policy);
        this.contextLength = contextLength;
    }

    public CompressedKvCache cache() {
        return cache;
    }

    /**
     * Frees the cache's memory now. Quantized pages live outside the Java heap, and a loop that
     * drops sessions unclosed leaves them to the collector, which may run rarely.
     */
    @Override
    public void close() {
        cache.clear();
    }

    public Model model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public int contextLength() {
        return contextLength;
    }

    /** Ids fed to the model so far (all turns). */
    public int[] history() {
        return Arrays.copyOf(history, historyLength);
    }

    /**
     * Never sample an end-of-generation token, so generation runs to the length limit (long-run
     * benchmarks; llama.cpp's --ignore-eos). Stop tokens and stop strings still apply.
     */
    public void setIgnoreEos(boolean ignore) {
        if (!ignore) {
            maskedEos = null;
            return;
        }
        maskedEos = java.util.stream.IntStream.range(0, model.config().vocabSize()).filter(tokenizer::isEndOfGeneration).toArray();
    }

    /**
     * Report, for each generated token, its log-probability and the {@code top} most likely tokens
     * (0..{@link TokenLogprobs#MAX_TOP}; -1 turns it off) in {@link GenerationResult#logprobs()}.
     */
    public void setLogprobs(int top) {
        topLogprobs = top < 0 ? -1 : TokenLogprobs.checkTop(top, "top log-probs");
    }

    /**
     * Receives each generated token id as it is sampled, before {@code onText} gets any text the
     * token completes (end-of-generation and stop tokens that end the run are not generated tokens).
     */
    public void setTokenListener(java.util.function.IntConsumer listener) {
        tokenListener = listener;
    }

    /** This conversation (its cache as stored and the ids fed so far) as session-file bytes. */
    public byte[] saveBytes() {
        return dev.think4j.kv.session.SessionFiles.toBytes(model, cache, history());
    }

    /** Saves this conversation to a session file (see {@link dev.think4j.kv.session.SessionFiles}). */
    public void save(java.nio.file.Path file) {
        save(file, java.util.Map.of());
    }

    /** As above, storing application data with it (e.g. a chat's messages; see SessionHeader#extras). */
    public void save(java.nio.file.Path file, java.util.Map<String, String> extras) {
        dev.think4j.kv.session.SessionFiles.save(file, model, cache, history(), extras);
    }

    /**
     * Replaces this conversation with a saved one: the next {@link #generate} continues it exactly
     * as the saved session would have. The file must belong to this model and this session's
     * {@code --kv} spec; on any error the session is left empty.
     */
    public void restore(dev.think4j.kv.session.SessionFile file) {
        reset();
        file.restoreInto(model, cache);
        int held = cache.maxLength();
        if (held > contextLength) {
            reset();
            throw new Think4jException(file.source() + " holds " + held + " cached tokens but the context is "
                    + contextLength + " tokens; raise --ctx");
        }
        record(file.tokens());
    }

    public void reset() {
        cache.clear();
        historyLength = 0;
    }

    /**
     * Prefills {@code promptIds} after the cached history, then samples up to {@code maxTokens}.
     * {@code onText} receives decoded text as soon as it is complete UTF-8 and cannot be the start of
     * a stop string; {@code cancelled} is polled between tokens.
     */
    public GenerationResult generate(int[] promptIds, int maxTokens, SamplerConfig samplerConfig,
                                     List<String> stopStrings, Consumer<String> onText, BooleanSupplier cancelled) {
        return generate(promptIds, maxTokens, samplerConfig, stopStrings, onText, cancelled, new int[0]);
    }

    /** As above, also ending at any of {@code stopTokens} (e.g. a chat format's end-of-turn tokens). */
    public GenerationResult generate(int[] promptIds, int maxTokens, SamplerConfig samplerConfig,
                                     List<String> stopStrings, Consumer<String> onText, BooleanSupplier cancelled,
                                     int[] stopTokens) {
        if (promptIds.length == 0) {
            throw new Think4jException("the prompt is empty (no tokens to start from)");
        }
        if (maxTokens < 0) {
            throw new Think4jException("max tokens must be >= 0, got " + maxTokens);
        }
        int held = cache.maxLength();
        if (held + promptIds.length > contextLength) {
            throw new Think4jException("prompt has " + promptIds.length + " tokens" + (held > 0 ? " (plus " + held + " cached)" : "")
                    + " but the context is " + contextLength + " tokens; shorten it or raise --ctx");
        }
        int vocab = model.config().vocabSize();
        float[] logits = new float[vocab];
        long t0 = System.nanoTime();
        transformer.forward(promptIds, 0, promptIds.length, cache, logits, null);
        record(promptIds);
        Logits.requireFinite(logits, 0, vocab, historyLength);
        cache.endPrefill();
        long t1 = System.nanoTime();

        TokenStepper stepper = new TokenStepper(tokenizer, samplerConfig, stopStrings, stopTokens, maxTokens);
        if (topLogprobs >= 0) {
            stepper.withLogprobs(topLogprobs);
        }
        stepper.maskTokens(maskedEos);
        StringBuilder text = new StringBuilder();
        int[] reported = {0};
        // at most one token per step, so the stepper's last token is the only one not yet reported
        Runnable reportToken = () -> {
            if (tokenListener != null && stepper.produced() > reported[0]) {
                reported[0] = stepper.produced();
                tokenListener.accept(stepper.token());
            }
        };
        Consumer<String> emit = piece -> {
            reportToken.run();
            text.append(piece);
            if (onText != null) {
                onText.accept(piece);
            }
        };
        StopReason reason = maxTokens == 0 ? StopReason.LENGTH : null;
        int[] one = new int[1];
        while (reason == null) {
            if (cancelled != null && cancelled.getAsBoolean()) {
                reason = StopReason.CANCELLED;
                break;
            }
            reason = stepper.step(logits, history, historyLength, cache.maxLength(), contextLength, emit);
            reportToken.run();
            if (reason == null) {
                one[0] = stepper.token();
                transformer.forward(one, 0, 1, cache, logits, null);
                record(one);
                Logits.requireFinite(logits, 0, vocab, historyLength);
            }
        }
        stepper.finish(reason, emit);
        long t2 = System.nanoTime();
        double prefillTps = promptIds.length / Math.max(1e-9, (t1 - t0) / 1e9);
        int produced = stepper.produced();
        int decodeSteps = Math.max(0, produced - 1);
        double decodeTps = decodeSteps == 0 ? 0 : decodeSteps / Math.max(1e-9, (t2 - t1) / 1e9);
        return new GenerationResult(promptIds.clone(), stepper.outputIds(), text.toString(), reason,
                cache.bytes(), cache.uncompressedBytes(), prefillTps, decodeTps, stepper.logprobs());
    }

    private void record(int[] ids) {
        if (historyLength + ids.length > history.length) {
            history = Arrays.copyOf(history, Math.max(history.length * 2, historyLength + ids.length));
        }
        System.arraycopy(ids, 0, history, historyLength, ids.length);
        historyLength += ids.length;
    }
}
