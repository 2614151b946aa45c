package dev.think4j.api;

import dev.think4j.generate.GenerationResult;
import dev.think4j.generate.Session;
import dev.think4j.generate.TokenLogprobs;
import dev.think4j.tokenizer.TokenPieces;
import dev.think4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** One generation on a session, reported as {@link GenerationEvent}s: the part LocalModel and ChatSession share. */
final class Generations {
    private Generations() {
    }

    static Generation run(Session session, int[] promptIds, GenerateOptions options, int[] stopTokens, int cachedTokens,
                          Consumer<? super GenerationEvent> listener, BooleanSupplier cancelled) {
        int[] index = {0};
        session.setLogprobs(options.logprobs());
        session.setTokenListener(listener == null ? null : id -> listener.accept(new GenerationEvent.Token(id, index[0]++)));
        GenerationResult r;
        try {
            r = session.generate(promptIds, options.maxTokens(), options.sampler(), options.stopStrings(),
                    listener == null ? null : text -> listener.accept(new GenerationEvent.Text(text)), cancelled, stopTokens);
        } finally {
            session.setTokenListener(null);
        }
        Tokenizer tok = session.tokenizer();
        List<TokenLogprob> logprobs = new ArrayList<>(r.logprobs().size());
        for (TokenLogprobs t : r.logprobs()) {
            List<TokenLogprob.Alternative> top = new ArrayList<>(t.topIds().length);
            for (int i = 0; i < t.topIds().length; i++) {
                top.add(new TokenLogprob.Alternative(t.topIds()[i], TokenPieces.display(tok, t.topIds()[i], false), t.topLogprobs()[i]));
            }
            logprobs.add(new TokenLogprob(t.id(), TokenPieces.display(tok, t.id(), false), t.logprob(), top));
        }
        Generation g = new Generation(r.text(), r.outputIds(), FinishReason.of(r.stopReason()), promptIds.length, cachedTokens,
                r.kvBytes(), r.kvBytesUncompressed(), r.prefillTokensPerSecond(), r.decodeTokensPerSecond(), logprobs);
        if (listener != null) {
            listener.accept(new GenerationEvent.Completed(g));
        }
        return g;
    }
}
