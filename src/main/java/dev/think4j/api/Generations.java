package dev.think4j.api;

import dev.think4j.generate.GenerationResult;
import dev.think4j.generate.Session;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** One generation on a session, reported as {@link GenerationEvent}s: the part LocalModel and ChatSession share. */
final class Generations {
    private Generations() {
    }

    static Generation run(Session session, int[] promptIds, GenerateOptions options, int[] stopTokens, int cachedTokens,
                          Consumer<? super GenerationEvent> listener, BooleanSupplier cancelled) {
        int[] index = {0};
        session.setTokenListener(listener == null ? null : id -> listener.accept(new GenerationEvent.Token(id, index[0]++)));
        GenerationResult r;
        try {
            r = session.generate(promptIds, options.maxTokens(), options.sampler(), options.stopStrings(),
                    listener == null ? null : text -> listener.accept(new GenerationEvent.Text(text)), cancelled, stopTokens);
        } finally {
            session.setTokenListener(null);
        }
        Generation g = new Generation(r.text(), r.outputIds(), FinishReason.of(r.stopReason()), promptIds.length, cachedTokens,
                r.kvBytes(), r.kvBytesUncompressed(), r.prefillTokensPerSecond(), r.decodeTokensPerSecond());
        if (listener != null) {
            listener.accept(new GenerationEvent.Completed(g));
        }
        return g;
    }
}
