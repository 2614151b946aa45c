/**
 * think4j as a library: load a GGUF model, generate and chat in process, with a compressed KV cache.
 *
 * <pre>{@code
 * try (LocalModel model = Think4j.load(Path.of("models/stories260K.gguf"))) {
 *     Generation g = model.generate("Once upon a time", GenerateOptions.greedy().withMaxTokens(32));
 *     System.out.println(g.text() + " (" + g.kvBytes() + " bytes of KV)");
 * }
 * }</pre>
 *
 * <p>Entry points: {@link dev.think4j.api.Think4j#load} and {@link dev.think4j.api.Think4j#builder}
 * give a {@link dev.think4j.api.LocalModel}; {@link dev.think4j.api.KvConfig} chooses the cache
 * compression; {@link dev.think4j.api.GenerateOptions} the sampling; a
 * {@link dev.think4j.api.ChatSession} keeps one conversation's cache across turns.
 *
 * <p>Thread-safety: a {@code LocalModel} may be shared by any number of threads (each call works on
 * its own cache); a {@code ChatSession} belongs to one thread at a time and refuses concurrent use.
 * Errors in the caller's input (a bad file, a prompt longer than the context) are
 * {@link dev.think4j.Think4jException}s, bad arguments {@link java.lang.IllegalArgumentException}s, and
 * any use after {@code close()} an {@link java.lang.IllegalStateException}.
 */
package dev.think4j.api;
