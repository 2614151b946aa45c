package dev.think4j.cli;

import dev.think4j.Think4jException;
import dev.think4j.generate.GenerationResult;
import dev.think4j.generate.Session;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.session.ChatTranscript;
import dev.think4j.kv.session.SessionFile;
import dev.think4j.kv.session.SessionFiles;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.ChatFormat;
import dev.think4j.tokenizer.ChatMessage;
import dev.think4j.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Interactive multi-turn chat. The KV cache persists across turns: each turn feeds only the tokens
 * the conversation gained since the last one (the compressed prefix is reused, not recomputed).
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Interactive chat; type /reset to start over, /stats for cache size, /save [FILE] to save the "
                + "conversation with its KV cache, /quit or Ctrl-D to leave.")
public final class ChatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--system", paramLabel = "TEXT", description = "system prompt")
    String system;

    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "512",
            description = "maximum tokens per reply (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--save", paramLabel = "FILE",
            description = "save the conversation and its compressed KV cache to FILE when the chat ends (and on /save)")
    Path saveFile;

    @Option(names = "--load", paramLabel = "FILE",
            description = "continue a conversation saved with --save or /save; its --kv spec is used (a different --kv is an error)")
    Path loadFile;

    @Override
    public Integer call() throws Exception {
        modelOptions.applyThreads();
        KvPolicy policy = modelOptions.policy();
        SessionFile loaded = null;
        long readMs = 0;
        if (loadFile != null) {
            long t0 = System.nanoTime();
            loaded = SessionFiles.load(loadFile);
            readMs = (System.nanoTime() - t0) / 1_000_000;
            if (spec.commandLine().getParseResult().hasMatchedOption("--kv")) {
                loaded.checkSpec(policy.spec());
            }
            policy = loaded.policy();
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Model model = modelOptions.loadModel()) {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.gguf());
            String template = model.gguf().getString("tokenizer.chat_template", null);
            ChatFormat format = ChatFormat.detect(template, tokenizer);
            Session session = new Session(model, tokenizer, policy, modelOptions.contextLength(model.config(), err),
                    modelOptions.chunk);
            List<ChatMessage> messages = new ArrayList<>();
            if (system != null) {
                messages.add(new ChatMessage("system", system));
            }
            if (loaded != null) {
                long t0 = System.nanoTime();
                session.restore(loaded);
                long restoreMs = (System.nanoTime() - t0) / 1_000_000;
                List<ChatMessage> saved = ChatTranscript.messages(loaded.header().extras());
                if (!saved.isEmpty()) {
                    messages = saved;
                } else {
                    err.println("(note: " + loadFile + " holds no chat messages, e.g. a server slot; the cache is used only if"
                            + " the next turn's rendering starts with its tokens)");
                }
                err.printf("(continuing %s: %d tokens, %d messages, KV %s; read in %d ms, restored in %d ms)%n", loadFile,
                        loaded.header().tokenCount(), messages.size(), Bytes.human(session.cache().bytes()), readMs, restoreMs);
            }
            err.println("chat with " + modelOptions.modelPath().getFileName() + " (format " + format.name() + ", --kv " + policy.spec()
                    + "); /reset, /stats, /save [FILE], /quit");
            err.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/quit") || line.strip().equals("/exit")) {
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                if (line.strip().equals("/reset")) {
                    session.reset();
                    messages.removeIf(m -> !m.role().equals("system"));
                    err.println("(conversation cleared)");
                    err.flush();
                    continue;
                }
                if (line.strip().equals("/save") || line.strip().startsWith("/save ")) {
                    String arg = line.strip().substring("/save".length()).strip();
                    Path target = arg.isEmpty() ? saveFile : Path.of(arg);
                    if (target == null) {
                        err.println("error: /save needs a file name (or start the chat with --save FILE)");
                    } else {
                        try {
                            save(session, messages, target, err);
                        } catch (Think4jException e) {
                            err.println("error: " + Main.oneLine(e.getMessage()));
                        }
                    }
                    err.flush();
                    continue;
                }
                if (line.strip().equals("/stats")) {
                    err.printf("(KV %s held for %d tokens; dense would be %s)%n", Bytes.human(session.cache().bytes()),
                            session.cache().position(), Bytes.human(session.cache().uncompressedBytes()));
                    err.flush();
                    continue;
                }
                messages.add(new ChatMessage("user", line));
                int[] all = tokenizer.encode(format.render(messages, true), format.addBos(), true);
                int[] fed = session.history();
                int[] delta;
                if (fed.length > 0 && fed.length < all.length && Arrays.equals(fed, 0, fed.length, all, 0, fed.length)) {
                    delta = Arrays.copyOfRange(all, fed.length, all.length);
                } else {
                    // The rendering does not extend what is cached (e.g. re-tokenization at a turn boundary): start over.
                    session.reset();
                    delta = all;
                }
                List<String> stops = new ArrayList<>(sampling.stop);
                GenerationResult r = session.generate(delta, maxTokens, sampling.config(), stops, piece -> {
                    out.print(piece);
                    out.flush();
                }, null, format.stopTokens());
                out.println();
                out.flush();
                messages.add(new ChatMessage("assistant", r.text()));
            }
            if (saveFile != null) {
                save(session, messages, saveFile, err);
            }
        }
        return 0;
    }

    private static void save(Session session, List<ChatMessage> messages, Path file, PrintWriter err) {
        long t0 = System.nanoTime();
        session.save(file, ChatTranscript.extras(messages));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        long size;
        try {
            size = Files.size(file);
        } catch (java.io.IOException e) {
            size = -1;
        }
        err.printf("(saved %d tokens, %d messages to %s: %s in %d ms)%n", session.cache().position(), messages.size(), file,
                Bytes.human(size), ms);
        err.flush();
    }
}
