package dev.think4j.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.ChatFormat;
import dev.think4j.tokenizer.Tokenizer;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;

/** The OpenAI-compatible HTTP server: routes, error mapping and metrics around one {@link Scheduler}. */
public final class InferenceServer implements AutoCloseable {
    private final Javalin app;
    private final Scheduler scheduler;
    private final Metrics metrics;
    private final ObjectMapper json = new ObjectMapper();
    private final ResponseJson responses;

    private InferenceServer(ServerConfig config, Model model, Tokenizer tokenizer, ChatFormat format) {
        this.metrics = new Metrics(config.kvBudget());
        this.scheduler = new Scheduler(model, tokenizer, config.kvBudget(), config.maxBatch(), config.maxQueue(),
                config.contextLength(), config.prefixEntries(), metrics);
        this.responses = new ResponseJson(json, config.modelId());
        RequestParser parser = new RequestParser(json, config.modelId());
        PromptEncoder encoder = new PromptEncoder(tokenizer, format, config.contextLength(), config.kvSpec());
        GenerationEndpoint completions = new GenerationEndpoint(GenerationEndpoint.Kind.COMPLETION, parser, encoder,
                scheduler, responses, json);
        GenerationEndpoint chat = new GenerationEndpoint(GenerationEndpoint.Kind.CHAT, parser, encoder, scheduler,
                responses, json);
        long started = System.currentTimeMillis() / 1000;
        this.app = Javalin.create(c -> {
            c.useVirtualThreads = true;
            c.showJavalinBanner = false;
            c.startupWatcherEnabled = false;
        });
        app.get("/health", ctx -> ctx.json(java.util.Map.of("status", "ok")));
        app.get("/v1/models", ctx -> ctx.contentType("application/json").result(json.writeValueAsString(responses.models(started))));
        app.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.prometheus()));
        app.post("/v1/completions", completions::handle);
        app.post("/v1/chat/completions", chat::handle);
        app.exception(ApiException.class, (e, ctx) -> error(ctx, e));
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx,
                new ApiException(e.getStatus(), "invalid_request_error", e.getMessage(), null, null)));
        app.exception(Exception.class, (e, ctx) -> error(ctx,
                new ApiException(500, "server_error", "internal error: " + e, null, null)));
        app.error(404, ctx -> {
            if (!isJson(ctx)) {
                error(ctx, new ApiException(404, "invalid_request_error", "unknown endpoint " + ctx.method() + " " + ctx.path(),
                        null, "unknown_url"));
            }
        });
        app.after(ctx -> metrics.request(ctx.statusCode()));
        app.start(config.host(), config.port());
    }

    /** Starts serving; the caller keeps ownership of the model. */
    public static InferenceServer start(ServerConfig config, Model model, Tokenizer tokenizer, ChatFormat format) {
        return new InferenceServer(config, model, tokenizer, format);
    }

    private static boolean isJson(Context ctx) {
        String type = ctx.res().getContentType();
        return type != null && type.startsWith("application/json");
    }

    private void error(Context ctx, ApiException e) {
        try {
            ctx.status(e.status()).contentType("application/json").result(json.writeValueAsString(responses.error(e)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    public int port() {
        return app.port();
    }

    public Metrics metrics() {
        return metrics;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    @Override
    public void close() {
        app.stop();
        scheduler.close();
    }
}
