package dev.think4j.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * POST /v1/completions and /v1/chat/completions: validate, queue, then either wait for the whole
 * text or relay it as server-sent events. Runs on a (virtual) request thread; a failed write means
 * the client left, which cancels the sequence so the scheduler frees its KV at the next step.
 */
final class GenerationEndpoint {
    /** How often a waiting stream probes the connection, so a client that leaves while queued is noticed. */
    private static final long KEEPALIVE_MILLIS = 1000;

    enum Kind { COMPLETION, CHAT }

    private final Kind kind;
    private final RequestParser parser;
    private final PromptEncoder encoder;
    private final Scheduler scheduler;
    private final ResponseJson responses;
    private final ObjectMapper json;

    GenerationEndpoint(Kind kind, RequestParser parser, PromptEncoder encoder, Scheduler scheduler, ResponseJson responses,
                       ObjectMapper json) {
        this.kind = kind;
        this.parser = parser;
        this.encoder = encoder;
        this.scheduler = scheduler;
        this.responses = responses;
        this.json = json;
    }

    void handle(Context ctx) throws Exception {
        ApiRequest request = kind == Kind.CHAT ? parser.chat(ctx.body()) : parser.completion(ctx.body());
        SequenceHandle handle = scheduler.submit(encoder.encode(request));
        String id = (kind == Kind.CHAT ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long created = System.currentTimeMillis() / 1000;
        try {
            if (request.stream()) {
                stream(ctx, handle, id, created, request.includeUsage());
            } else {
                whole(ctx, handle, id, created);
            }
        } finally {
            // Whatever ended this handler (done, write failure, interrupt), the sequence must not outlive it.
            handle.cancel();
        }
    }

    private void whole(Context ctx, SequenceHandle handle, String id, long created) throws InterruptedException, IOException {
        StringBuilder text = new StringBuilder();
        while (true) {
            SequenceHandle.Event e = handle.next(KEEPALIVE_MILLIS);
            switch (e) {
                case null -> {
                }
                case SequenceHandle.Text t -> text.append(t.text());
                case SequenceHandle.Failed f -> throw f.error();
                case SequenceHandle.Finished f -> {
                    ObjectNode body = kind == Kind.CHAT ? responses.chat(id, created, text.toString(), f)
                            : responses.completion(id, created, text.toString(), f);
                    ctx.status(200).contentType("application/json").result(json.writeValueAsString(body));
                    return;
                }
            }
        }
    }

    private void stream(Context ctx, SequenceHandle handle, String id, long created, boolean includeUsage)
            throws InterruptedException, IOException {
        ctx.status(200);
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setContentType("text/event-stream");
        res.setCharacterEncoding("UTF-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
        OutputStream out = res.getOutputStream();
        try {
            if (kind == Kind.CHAT) {
                send(out, responses.chatChunk(id, created, "assistant", "", null));
            }
            while (true) {
                SequenceHandle.Event e = handle.next(KEEPALIVE_MILLIS);
                switch (e) {
                    case null -> {
                        out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    }
                    case SequenceHandle.Text t -> send(out, kind == Kind.CHAT
                            ? responses.chatChunk(id, created, null, t.text(), null)
                            : responses.completionChunk(id, created, t.text(), null));
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
            ctx.status(499); // nginx's "client closed request", so metrics tell disconnects apart
        }
    }

    private void send(OutputStream out, ObjectNode chunk) throws IOException {
        out.write(("data: " + json.writeValueAsString(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void done(OutputStream out) throws IOException {
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
