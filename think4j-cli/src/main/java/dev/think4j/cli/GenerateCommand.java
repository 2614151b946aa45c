package dev.think4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.generate.GenerationResult;
import dev.think4j.generate.SamplerConfig;
import dev.think4j.generate.Session;
import dev.think4j.generate.TokenLogprobs;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.think4j.tokenizer.TokenPieces;
import dev.think4j.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Generates a continuation of a prompt, streamed to stdout, or as one JSON line with --json. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt. Text streams to stdout; statistics go to stderr (or into --json).")
public final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the prompt")
    String promptOption;

    @Parameters(arity = "0..1", paramLabel = "PROMPT", description = "the prompt (alternative to --prompt)")
    String promptArgument;

    @Option(names = {"-f", "--prompt-file"}, paramLabel = "FILE", description = "read the prompt from a UTF-8 text file")
    java.nio.file.Path promptFile;

    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "256",
            description = "maximum tokens to generate (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--ignore-eos", description = "never sample end-of-generation tokens: run to --max-tokens (benchmarks)")
    boolean ignoreEos;

    @Option(names = "--json", description = "print one JSON object (ids, text, stop reason, KV bytes, speeds) as the last stdout line")
    boolean json;

    @Option(names = "--logprobs", paramLabel = "K", description = "report each generated token's log-probability and the K "
            + "most likely tokens (0..20) at its position, from the raw logits (temperature 1, before top-k/top-p): "
            + "a \"logprobs\" array in --json, else a table on stderr after the text")
    Integer logprobs;

    @Option(names = "--no-bos", description = "do not add the BOS token")
    boolean noBos;

    @Option(names = "--kv-trace", paramLabel = "N", defaultValue = "0",
            description = "with --json: record kv_bytes every N generated tokens (field kv_bytes_trace)")
    int kvTrace;

    @Option(names = "--live-heap", description = "after generating, run a full garbage collection and report the live Java heap "
            + "(field live_heap_bytes): what the cache really occupies, with its spare capacity and per-object overhead, "
            + "where peak RSS mostly shows how far the collector let the heap grow")
    boolean liveHeap;

    @Override
    public Integer call() throws Exception {
        int given = (promptOption != null ? 1 : 0) + (promptArgument != null ? 1 : 0) + (promptFile != null ? 1 : 0);
        if (given > 1) {
            throw new Think4jException("give the prompt once: as --prompt, as --prompt-file or as an argument");
        }
        String prompt = promptFile != null ? withoutFinalNewline(dev.think4j.eval.TextFiles.readUtf8(promptFile))
                : promptOption != null ? promptOption : promptArgument;
        if (prompt == null) {
            throw new Think4jException("missing prompt: think4j generate \"Once upon a time\" (or --prompt TEXT, --prompt-file FILE)");
        }
        if (maxTokens < 0) {
            throw new Think4jException("--max-tokens must be >= 0, got " + maxTokens);
        }
        if (logprobs != null) {
            TokenLogprobs.checkTop(logprobs, "--logprobs");
        }
        if (kvTrace < 0) {
            throw new Think4jException("--kv-trace must be >= 0, got " + kvTrace);
        }
        modelOptions.applyThreads();
        KvPolicy policy = modelOptions.policy();
        SamplerConfig samplerConfig = sampling.config();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Model model = modelOptions.loadModel()) {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.gguf());
            // special-token text in the prompt becomes the token, as in llama.cpp's CLI
            int[] ids = tokenizer.encode(prompt, !noBos, true);
            int ctx = modelOptions.contextLength(model.config(), err);
            // checked here, before the prompt is echoed, so that a failing run prints nothing on stdout
            if (ids.length > ctx) {
                throw new Think4jException("prompt has " + ids.length + " tokens but the context is " + ctx
                        + " tokens; shorten it or raise --ctx");
            }
            Notes.shortPrompt(err, policy, ids.length);
            Session session = new Session(model, tokenizer, policy, ctx, modelOptions.chunk);
            session.setIgnoreEos(ignoreEos);
            session.setLogprobs(logprobs == null ? -1 : logprobs);
            if (!json) {
                out.print(prompt);
                out.flush();
            }
            java.util.List<long[]> trace = new java.util.ArrayList<>();
            int[] produced = {0};
            GenerationResult r = session.generate(ids, maxTokens, samplerConfig, sampling.stop,
                    piece -> {
                        if (!json) {
                            out.print(piece);
                            out.flush();
                        }
                    }, () -> {
                        // polled once per generated token: a cheap place to sample the cache size
                        if (kvTrace > 0 && produced[0] % kvTrace == 0) {
                            trace.add(new long[] {produced[0], session.cache().bytes()});
                        }
                        produced[0]++;
                        return false;
                    });
            long live = liveHeap ? liveHeapBytes() : -1;
            // keep the session (and its cache) reachable until after the measurement
            java.lang.ref.Reference.reachabilityFence(session);
            if (json) {
                com.fasterxml.jackson.databind.node.ObjectNode n = toJson(r, policy, modelOptions.modelPath().toString());
                if (logprobs != null) {
                    logprobsJson(n.putArray("logprobs"), r.logprobs(), tokenizer);
                }
                if (live >= 0) {
                    n.put("live_heap_bytes", live);
                }
                if (kvTrace > 0) {
                    com.fasterxml.jackson.databind.node.ArrayNode a = n.putArray("kv_bytes_trace");
                    for (long[] p : trace) {
                        a.addArray().add(p[0]).add(p[1]);
                    }
                }
                out.println(n);
            } else {
                out.println();
                err.printf("[%d prompt tokens at %.1f tok/s, %d generated at %.1f tok/s, stop: %s, KV %s (%s uncompressed, --kv %s)]%n",
                        r.promptIds().length, r.prefillTokensPerSecond(), r.outputIds().length, r.decodeTokensPerSecond(),
                        r.stopReason().jsonName(), Bytes.human(r.kvBytes()), Bytes.human(r.kvBytesUncompressed()), policy.spec());
                if (logprobs != null) {
                    printLogprobs(err, r.logprobs(), tokenizer);
                }
                if (live >= 0) {
                    err.printf("[live Java heap after a full collection: %s]%n", Bytes.human(live));
                }
            }
            out.flush();
            err.flush();
        }
        return 0;
    }

    /** {"id","piece","logprob","top":[{"id","piece","logprob"}...]} per generated token. */
    static void logprobsJson(ArrayNode out, List<TokenLogprobs> logprobs, Tokenizer tokenizer) {
        for (TokenLogprobs t : logprobs) {
            ObjectNode o = out.addObject();
            o.put("id", t.id());
            o.put("piece", TokenPieces.display(tokenizer, t.id(), false));
            o.put("logprob", t.logprob());
            ArrayNode top = o.putArray("top");
            for (int i = 0; i < t.topIds().length; i++) {
                ObjectNode a = top.addObject();
                a.put("id", t.topIds()[i]);
                a.put("piece", TokenPieces.display(tokenizer, t.topIds()[i], false));
                a.put("logprob", t.topLogprobs()[i]);
            }
        }
    }

    /** One line per generated token: position, piece, log-prob, then the alternatives (pieces escaped, quoted). */
    static void printLogprobs(PrintWriter err, List<TokenLogprobs> logprobs, Tokenizer tokenizer) {
        err.println("[log-probs of the generated tokens (raw logits, temperature 1): position, token, log-prob | top alternatives]");
        for (int p = 0; p < logprobs.size(); p++) {
            TokenLogprobs t = logprobs.get(p);
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(java.util.Locale.ROOT, "%4d  %-16s %9.4f", p, quoted(tokenizer, t.id()), t.logprob()));
            if (t.topIds().length > 0) {
                sb.append("  |");
                for (int i = 0; i < t.topIds().length; i++) {
                    sb.append(String.format(java.util.Locale.ROOT, " %s %.4f", quoted(tokenizer, t.topIds()[i]), t.topLogprobs()[i]));
                }
            }
            err.println(sb);
        }
    }

    private static String quoted(Tokenizer tokenizer, int id) {
        return "'" + TokenPieces.display(tokenizer, id, true) + "'";
    }

    /** A file's last line ends with a newline the writer did not mean as part of the prompt (as llama.cpp's -f). */
    static String withoutFinalNewline(String s) {
        return s.endsWith("\r\n") ? s.substring(0, s.length() - 2) : s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    /** Heap in use right after a full collection: System.gc() is a full, compacting one under the launcher's collector. */
    private static long liveHeapBytes() {
        System.gc();
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static com.fasterxml.jackson.databind.node.ObjectNode toJson(GenerationResult r, KvPolicy policy, String modelPath) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode n = mapper.createObjectNode();
        n.put("model", modelPath);
        n.put("kv_spec", policy.spec());
        n.set("prompt_ids", mapper.valueToTree(r.promptIds()));
        n.set("output_ids", mapper.valueToTree(r.outputIds()));
        n.put("text", r.text());
        n.put("stop_reason", r.stopReason().jsonName());
        n.put("prompt_tokens", r.promptIds().length);
        n.put("generated_tokens", r.outputIds().length);
        n.put("kv_bytes", r.kvBytes());
        n.put("kv_bytes_uncompressed", r.kvBytesUncompressed());
        n.put("prefill_tokens_per_second", round(r.prefillTokensPerSecond()));
        n.put("decode_tokens_per_second", round(r.decodeTokensPerSecond()));
        return n;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
