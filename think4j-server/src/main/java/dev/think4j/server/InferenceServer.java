package dev.think4j.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.ChatFormat;
import dev.think4j.tokenizer.Tokenizer;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The OpenAI-compatible HTTP server: routes, error mapping and metrics around one {@link Scheduler}.
 * {@link #shutdown(Duration)} drains it: new requests get 503, running sequences get a grace period,
 * whatever is left then ends with an error, and every handler finishes writing before the port closes.
 */
public final class InferenceServer implements AutoCloseable {
    /** After the scheduler ended everything, how long handlers get to write their last bytes. */
    private static final Duration HANDLER_FLUSH = Duration.ofSeconds(5);
    /** An abort takes effect at the scheduler's next iteration: one decode step plus one prefill chunk. */
    private static final Duration ABORT_WAIT = Duration.ofSeconds(30);

    private final Javalin app;
    private final Scheduler scheduler;
    private final Metrics metrics;
    /** Caches shared with other replicas, or null. */
    private final KvShare share;
    private final ObjectMapper json = new ObjectMapper();
    private final ResponseJson responses;
    private final AtomicInteger handlers = new AtomicInteger();
    private boolean stopped;

    private InferenceServer(ServerConfig config, Model model, Tokenizer tokenizer, ChatFormat format, KvStore store) {
        int layers = model.config().layers();
        try {
            RequestParser.kvPolicy(config.kvSpec(), layers);
        } catch (IllegalArgumentException e) {
            if (store != null) {
                store.close();
            }
            throw new Think4jException(e.getMessage());
        }
        if (config.slotSavePath() != null && !java.nio.file.Files.isDirectory(config.slotSavePath())) {
            if (store != null) {
                store.close();
            }
            throw new Think4jException("--slot-save-path " + config.slotSavePath() + " is not a directory");
        }
        this.metrics = new Metrics(config.kvBudget());
        try {
            this.share = store == null ? null : new KvShare(store, SessionCacheCodec.of(model), metrics, config.kvStoreTtl(),
                    config.contextLength());
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        this.scheduler = new Scheduler(model, tokenizer, config.kvBudget(), config.maxBatch(), config.maxQueue(),
                config.contextLength(), config.prefixEntries(), config.prefillChunk(), metrics, share);
        this.responses = new ResponseJson(json, config.modelId(), tokenizer);
        RequestParser parser = new RequestParser(json, config.modelId(), layers);
        PromptEncoder encoder = new PromptEncoder(tokenizer, format, config.contextLength(), config.kvSpec());
        GenerationEndpoint completions = new GenerationEndpoint(GenerationEndpoint.Kind.COMPLETION, parser, encoder,
                scheduler, responses, json, handlers);
        GenerationEndpoint chat = new GenerationEndpoint(GenerationEndpoint.Kind.CHAT, parser, encoder, scheduler,
                responses, json, handlers);
        long started = System.currentTimeMillis() / 1000;
        JsonErrorHandler jettyErrors = new JsonErrorHandler();
        this.app = Javalin.create(c -> {
            c.useVirtualThreads = true;
            c.showJavalinBanner = false;
            c.startupWatcherEnabled = false;
            c.http.prefer405over404 = true;
            c.jetty.modifyServer(server -> server.setErrorHandler(jettyErrors));
            c.jetty.modifyServletContextHandler(handler -> handler.setErrorHandler(jettyErrors));
        });
        app.get("/health", this::health);
        app.get("/v1/models", ctx -> ctx.contentType("application/json").result(json.writeValueAsString(responses.models(started))));
        app.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.prometheus()));
        app.post("/v1/completions", completions::handle);
        app.post("/v1/chat/completions", chat::handle);
        SlotEndpoints slots = new SlotEndpoints(scheduler, model, config.slotSavePath(), json,
                share == null ? null : share.store(), config.kvStoreTtl());
        app.get("/slots", slots::list);
        app.post("/slots/{id}", slots::action);
        app.exception(ApiException.class, (e, ctx) -> error(ctx, e));
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, fromJavalin(e, ctx)));
        app.exception(Exception.class, (e, ctx) -> error(ctx, ApiException.internal("internal error: " + e)));
        app.error(404, ctx -> {
            if (!isJson(ctx)) {
                error(ctx, new ApiException(404, "invalid_request_error", "unknown endpoint " + ctx.method() + " " + ctx.path(),
                        null, "unknown_url"));
            }
        });
        app.after(ctx -> metrics.request(ctx.statusCode()));
        try {
            app.start(config.host(), config.port());
        } catch (RuntimeException e) {
            scheduler.close();
            closeShare();
            if (e instanceof io.javalin.util.JavalinBindException) {
                throw new Think4jException("cannot listen on " + config.host() + ":" + config.port()
                        + " (port in use or address not available); choose another --port or --host");
            }
            throw e;
        }
    }

    /**
     * Starts serving; the caller keeps ownership of the model. With {@link ServerConfig#kvStore()} set,
     * connects to it first (an unreachable store is a {@link Think4jException}).
     */
    public static InferenceServer start(ServerConfig config, Model model, Tokenizer tokenizer, ChatFormat format) {
        KvStore store = config.kvStore() == null ? null : KvStores.open(config.kvStore());
        return new InferenceServer(config, model, tokenizer, format, store);
    }

    /**
     * Starts serving with caches shared through {@code store} (null: none), which the server then owns
     * and closes on shutdown; {@link ServerConfig#kvStore()} is ignored.
     */
    public static InferenceServer start(ServerConfig config, Model model, Tokenizer tokenizer, ChatFormat format,
                                        KvStore store) {
        return new InferenceServer(config, model, tokenizer, format, store);
    }

    /** Writes what the shared store still has queued, then closes it. */
    private void closeShare() {
        if (share != null) {
            share.close();
            share.store().close();
        }
    }

    private static ApiException fromJavalin(HttpResponseException e, Context ctx) {
        if (e.getStatus() == 405) {
            String allowed = String.join(", ", e.getDetails().values()).replaceAll("[\\[\\]]", "");
            if (!allowed.isBlank()) {
                ctx.header("Allow", allowed);
            }
            return new ApiException(405, "invalid_request_error", "method " + ctx.method() + " is not allowed on " + ctx.path()
                    + (allowed.isBlank() ? "" : "; use " + allowed), null, "method_not_allowed");
        }
        return new ApiException(e.getStatus(), e.getStatus() >= 500 ? "server_error" : "invalid_request_error",
                e.getMessage(), null, JsonErrorHandler.code(e.getStatus()));
    }

    /** 200 while serving; 503 with a JSON body while shutting down or once the scheduler has failed. */
    private void health(Context ctx) throws Exception {
        Throwable failure = scheduler.failure();
        ObjectNode body = json.createObjectNode();
        if (failure != null) {
            ApiException e = Scheduler.dead(failure);
            body.put("status", "error");
            body.set("error", responses.error(e).get("error"));
            ctx.status(503);
        } else if (scheduler.draining()) {
            ApiException e = Scheduler.shuttingDown();
            body.put("status", "shutting_down");
            body.set("error", responses.error(e).get("error"));
            ctx.status(503).header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        } else {
            body.put("status", "ok");
        }
        ctx.contentType("application/json").result(json.writeValueAsString(body));
    }

    private static boolean isJson(Context ctx) {
        String type = ctx.res().getContentType();
        return type != null && type.startsWith("application/json");
    }

    private void error(Context ctx, ApiException e) {
        try {
            if (e.retryAfterSeconds() > 0) {
                ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
            }
            ctx.status(e.status()).contentType("application/json").result(json.writeValueAsString(responses.error(e)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    public int port() {
        return app.port();
    }

    /** Where finished caches are shared ({@code redis://host:port/db}, no password), or null. */
    public String kvStore() {
        return share == null ? null : share.store().describe();
    }

    public Metrics metrics() {
        return metrics;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    /**
     * Drains and stops: new and queued requests get 503 with Retry-After at once, admitted sequences
     * may run up to {@code grace}, then the rest end with an error (an SSE error event and [DONE] for
     * streams, an error body otherwise). Returns when every handler has written its answer and the
     * port is closed. A second call (or {@link #close()}) waits for the first.
     */
    public synchronized void shutdown(Duration grace) {
        if (stopped) {
            return;
        }
        stopped = true;
        scheduler.drain();
        try {
            if (!scheduler.awaitIdle(grace)) {
                scheduler.abortInFlight(new ApiException(503, "server_error", "the server shut down before this request finished"
                        + " (shutdown grace " + grace.toMillis() + " ms)", null, "shutting_down", Scheduler.RETRY_AFTER_SECONDS));
                scheduler.awaitIdle(ABORT_WAIT);
            }
            long deadline = System.nanoTime() + HANDLER_FLUSH.toNanos();
            while (handlers.get() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        app.stop();
        scheduler.close();
        closeShare();
    }

    /** {@link #shutdown(Duration)} without a grace period. */
    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
