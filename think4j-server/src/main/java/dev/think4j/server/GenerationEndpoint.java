package dev.think4j.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.generate.TokenLogprobs;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * POST /v1/completions and /v1/chat/completions: validate, queue, then either wait for the whole
 * text or relay it as server-sent events. Runs on a (virtual) request thread. A client that leaves
 * cancels its sequence so the scheduler frees its KV at the next step: a stream notices through a
 * failed write, a waiting non-streaming request through {@link ClientProbe}. Every answer is written
 * and closed before the handler returns, so a shutdown that waits for the handlers loses no bytes.
 */
final class GenerationEndpoint {
    /** How often a waiting handler looks at its client. */
    private static final long POLL_MILLIS = 100;
    /** How often a waiting stream writes a comment, so a client that leaves while queued is noticed. */
    private static final long KEEPALIVE_NANOS = 1_000_000_000L;
    /** nginx's "client closed request", so metrics tell disconnects apart. */
    static final int CLIENT_CLOSED = 499;

    enum Kind { COMPLETION, CHAT }

    private final Kind kind;
    private final RequestParser parser;
    private final PromptEncoder encoder;
    private final Scheduler scheduler;
    private final ResponseJson responses;
    private final ObjectMapper json;
    private final AtomicInteger handlers;

    /** @param handlers counts handlers between entry and their last written byte (shared by both endpoints) */
    GenerationEndpoint(Kind kind, RequestParser parser, PromptEncoder encoder, Scheduler scheduler, ResponseJson responses,
                       ObjectMapper json, AtomicInteger handlers) {
        this.kind = kind;
        this.parser = parser;
        this.encoder = encoder;
        this.scheduler = scheduler;
        this.responses = responses;
        this.json = json;
        this.handlers = handlers;
    }

    void handle(Context ctx) throws Exception {
        handlers.incrementAndGet();
        try {
            ApiRequest request = kind == Kind.CHAT ? parser.chat(ctx.body()) : parser.completion(ctx.body());
            SequenceHandle handle = scheduler.submit(encoder.encode(request));
            String id = (kind == Kind.CHAT ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
            long created = System.currentTimeMillis() / 1000;
            try {
                boolean logprobs = request.logprobs() >= 0;
                if (request.stream()) {
                    stream(ctx, handle, id, created, request.includeUsage(), logprobs);
                } else {
                    whole(ctx, handle, id, created, logprobs);
                }
            } finally {
                // Whatever ended this handler (done, write failure, interrupt), the sequence must not outlive it.
                handle.cancel();
            }
        } finally {
            handlers.decrementAndGet();
        }
    }

    private void whole(Context ctx, SequenceHandle handle, String id, long created, boolean logprobs)
            throws InterruptedException {
        ClientProbe probe = ClientProbe.of(ctx.req(), ctx.res());
        StringBuilder text = new StringBuilder();
        List<TokenLogprobs> tokens = new ArrayList<>();
        long nextProbe = System.nanoTime() + POLL_MILLIS * 1_000_000;
        try {
            while (true) {
                SequenceHandle.Event e = handle.next(POLL_MILLIS);
                switch (e) {
                    case null -> {
                    }
                    case SequenceHandle.Text t -> {
                        text.append(t.text());
                        tokens.addAll(t.logprobs());
                    }
                    case SequenceHandle.Failed f -> {
                        write(ctx, f.error().status(), responses.error(f.error()), f.error().retryAfterSeconds());
                        return;
                    }
                    case SequenceHandle.Finished f -> {
                        ObjectNode lp = !logprobs ? null : kind == Kind.CHAT ? responses.logprobs().chat(tokens)
                                : responses.logprobs().completion().next(tokens);
                        ObjectNode body = kind == Kind.CHAT ? responses.chat(id, created, text.toString(), f, lp)
                                : responses.completion(id, created, text.toString(), f, lp);
                        write(ctx, 200, body, 0);
                        return;
                    }
                }
                // Text can arrive every few milliseconds, so the probe keeps its own clock.
                long now = System.nanoTime();
                if (now >= nextProbe) {
                    if (probe.clientGone()) {
                        handle.cancel();
                        ctx.status(CLIENT_CLOSED);
                        return;
                    }
                    nextProbe = now + POLL_MILLIS * 1_000_000;
                }
            }
        } catch (IOException disconnected) {
            handle.cancel();
            ctx.status(CLIENT_CLOSED);
        }
    }

    private void write(Context ctx, int status, ObjectNode body, int retryAfterSeconds) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        ctx.status(status);
        HttpServletResponse res = ctx.res();
        res.setStatus(status);
        res.setContentType("application/json");
        res.setContentLength(bytes.length);
        if (retryAfterSeconds > 0) {
            res.setHeader("Retry-After", Integer.toString(retryAfterSeconds));
        }
        OutputStream out = res.getOutputStream();
        out.write(bytes);
        out.close();
    }

    private void stream(Context ctx, SequenceHandle handle, String id, long created, boolean includeUsage,
                        boolean logprobs) throws InterruptedException {
        LogprobsJson.Completion offsets = logprobs && kind == Kind.COMPLETION ? responses.logprobs().completion() : null;
        ctx.status(200);
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setContentType("text/event-stream");
        res.setCharacterEncoding("UTF-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
        try {
            OutputStream out = res.getOutputStream();
            if (kind == Kind.CHAT) {
                send(out, responses.chatChunk(id, created, "assistant", "", null));
            }
            long lastWrite = System.nanoTime();
            while (true) {
                SequenceHandle.Event e = handle.next(POLL_MILLIS);
                switch (e) {
                    case null -> {
                        if (System.nanoTime() - lastWrite >= KEEPALIVE_NANOS) {
                            out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                            out.flush();
                            lastWrite = System.nanoTime();
                        }
                    }
                    case SequenceHandle.Text t -> {
                        // each chunk carries the log-probs of the tokens sampled since the previous one
                        ObjectNode lp = !logprobs ? null : kind == Kind.CHAT ? responses.logprobs().chat(t.logprobs())
                                : offsets.next(t.logprobs());
                        send(out, kind == Kind.CHAT ? responses.chatChunk(id, created, null, t.text(), null, lp)
                                : responses.completionChunk(id, created, t.text(), null, lp));
                        lastWrite = System.nanoTime();
                    }
                    case SequenceHandle.Failed f -> {
                        send(out, responses.error(f.error()));
                        done(out);
                        return;
                    }
                    case SequenceHandle.Finished f -> {
                        send(out, kind == Kind.CHAT ? responses.chatChunk(id, created, null, null, f.reason())
                                : responses.completionChunk(id, created, "", f.reason()));
                        if (includeUsage) {
                            send(out, responses.usageChunk(id, created,
                                    kind == Kind.CHAT ? "chat.completion.chunk" : "text_completion", f));
                        }
                        done(out);
                        return;
                    }
                }
            }
        } catch (IOException disconnected) {
            handle.cancel();
            ctx.status(CLIENT_CLOSED);
        }
    }

    private void send(OutputStream out, ObjectNode chunk) throws IOException {
        out.write(("data: " + json.writeValueAsString(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The end of a stream: [DONE], then the response itself is completed (last chunk written). */
    private static void done(OutputStream out) throws IOException {
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.close();
    }
}
