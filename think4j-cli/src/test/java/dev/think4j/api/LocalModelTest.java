package dev.think4j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.SharedFixtures;
import dev.think4j.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** The public API on the bundled model, checked against the command line it wraps. */
@Timeout(120)
class LocalModelTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path MODEL = SharedFixtures.bundledModel();
    private static LocalModel model;

    @BeforeAll
    static void load() {
        model = Think4j.load(MODEL);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** think4j generate ... --json, in process. */
    private static JsonNode cli(String... args) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        assertThat(cl.execute(args)).as(err.toString()).isZero();
        String[] lines = out.toString().strip().split("\n");
        return JSON.readTree(lines[lines.length - 1]);
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    @Test
    void tokenizeAndDetokenize() throws Exception {
        JsonNode ref = cli("generate", "--prompt", "Once upon a time", "-n", "0", "--json");
        int[] ids = model.tokenize("Once upon a time");
        assertThat(ids).containsExactly(ints(ref.get("prompt_ids")));
        assertThat(model.detokenize(ids)).isEqualTo("Once upon a time");
        assertThat(model.tokenize("Once upon a time", false, false)).containsExactly(java.util.Arrays.copyOfRange(ids, 1, ids.length));
        assertThatThrownBy(() -> model.detokenize(model.vocabularySize())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("outside the vocabulary");
        assertThat(model.architecture()).isEqualTo("llama");
        assertThat(model.contextLength()).isEqualTo(2048);
        try (LocalModel small = Think4j.builder(MODEL).contextLength(64).load()) {
            assertThat(small.contextLength()).isEqualTo(64);
            assertThatThrownBy(() -> small.generate("Once upon a time".repeat(20))).isInstanceOf(dev.think4j.Think4jException.class)
                    .hasMessageContaining("context is 64 tokens");
        }
    }

    @Test
    void greedyGenerationIsWhatTheCommandLinePrints() throws Exception {
        JsonNode ref = cli("generate", "--prompt", "Once upon a time", "-n", "48", "--temperature", "0", "--json");
        Generation g = model.generate("Once upon a time", GenerateOptions.greedy().withMaxTokens(48));
        assertThat(g.tokenIds()).containsExactly(ints(ref.get("output_ids")));
        assertThat(g.text()).isEqualTo(ref.get("text").asText());
        assertThat(g.finishReason()).isEqualTo(FinishReason.MAX_TOKENS);
        assertThat(g.promptTokens()).isEqualTo(ref.get("prompt_tokens").asInt());
        assertThat(g.kvBytes()).isEqualTo(ref.get("kv_bytes").asLong());
        assertThat(g.cachedTokens()).isZero();
        // and the command line's sampling defaults (seed 42) give the command line's sampled text
        JsonNode sampled = cli("generate", "--prompt", "Lily and Ben", "-n", "24", "--json");
        assertThat(model.generate("Lily and Ben", GenerateOptions.defaults().withMaxTokens(24)).text())
                .isEqualTo(sampled.get("text").asText());
    }

    @Test
    void logprobsAreTheCommandLinesAndLeaveTheOutputAlone() throws Exception {
        JsonNode ref = cli("generate", "--prompt", "Once upon a time", "-n", "12", "--temperature", "0", "--json", "--logprobs", "3");
        Generation g = model.generate("Once upon a time", GenerateOptions.greedy().withMaxTokens(12).withLogprobs(3));
        assertThat(g.tokenIds()).containsExactly(ints(ref.get("output_ids")));
        assertThat(g.logprobs()).hasSize(12);
        for (int i = 0; i < 12; i++) {
            TokenLogprob t = g.logprobs().get(i);
            JsonNode r = ref.get("logprobs").get(i);
            assertThat(t.id()).isEqualTo(r.get("id").asInt());
            assertThat(t.token()).isEqualTo(r.get("piece").asText());
            assertThat(t.logprob()).isEqualTo(r.get("logprob").asDouble());
            assertThat(t.top()).extracting(TokenLogprob.Alternative::id)
                    .containsExactly(r.get("top").get(0).get("id").asInt(), r.get("top").get(1).get("id").asInt(), r.get("top").get(2).get("id").asInt());
        }
        assertThat(model.generate("Once upon a time", GenerateOptions.greedy().withMaxTokens(12)).logprobs()).isEmpty();
        assertThatThrownBy(() -> GenerateOptions.greedy().withLogprobs(21)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void kvConfigTypedOrAsStringCompressesAsTheCommandLine() throws Exception {
        KvConfig typed = KvConfig.builder().think(0.5).kivi(2).build();
        assertThat(typed).isEqualTo(KvConfig.parse("think:0.5+kivi:2"));
        assertThat(typed.spec()).isEqualTo("think:0.5+kivi:2");
        assertThat(KvConfig.builder().build()).isEqualTo(KvConfig.full());
        assertThat(KvConfig.builder().snapKv(64).think(0.25, 0.5).q8_0().build().spec()).startsWith("snapkv:64+think:");
        assertThatThrownBy(() -> KvConfig.parse("think:2")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KvConfig.builder().h2o(64).kivi(2).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("KIVI");

        String story = java.nio.file.Files.readString(Path.of("docs/examples/story.txt")).stripTrailing();
        JsonNode ref = cli("generate", "--prompt", story, "-n", "16", "--temperature", "0", "--kv", "think:0.5+kivi:2", "--json");
        for (LocalModel m : new LocalModel[] {Think4j.builder(MODEL).kv(typed).load(), Think4j.builder(MODEL).kv("think:0.5+kivi:2").load()}) {
            try (m) {
                Generation g = m.generate(story, GenerateOptions.greedy().withMaxTokens(16));
                assertThat(g.tokenIds()).containsExactly(ints(ref.get("output_ids")));
                assertThat(g.kvBytes()).isEqualTo(ref.get("kv_bytes").asLong()).isLessThan(g.kvBytesUncompressed());
            }
        }
    }

    @Test
    void listenerEventsAddUpToTheResult() {
        List<GenerationEvent> events = new ArrayList<>();
        Generation g = model.generate("Once upon a time", GenerateOptions.greedy().withMaxTokens(40), events::add);
        StringBuilder text = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < events.size() - 1; i++) {
            switch (events.get(i)) {
                case GenerationEvent.Token t -> {
                    assertThat(t.index()).isEqualTo(ids.size());
                    ids.add(t.id());
                }
                case GenerationEvent.Text t -> {
                    assertThat(t.text()).isNotEmpty();
                    text.append(t.text());
                }
                case GenerationEvent.Completed c -> throw new AssertionError("Completed before the end");
            }
        }
        assertThat(events.getLast()).isEqualTo(new GenerationEvent.Completed(g));
        assertThat(text.toString()).isEqualTo(g.text());
        assertThat(ids).containsExactly(java.util.Arrays.stream(g.tokenIds()).boxed().toArray(Integer[]::new));
        // a token comes before the text it completes
        assertThat(events.getFirst()).isInstanceOf(GenerationEvent.Token.class);
    }

    /** Collects a publisher's events, requesting one at a time. */
    private static final class Collector implements Flow.Subscriber<GenerationEvent> {
        final List<GenerationEvent> events = new ArrayList<>();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final int cancelAfter;
        Flow.Subscription subscription;

        Collector(int cancelAfter) {
            this.cancelAfter = cancelAfter;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(GenerationEvent e) {
            events.add(e);
            if (events.size() == cancelAfter) {
                subscription.cancel();
                done.complete(null);
                return;
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            done.complete(null);
        }
    }

    @Test
    void publisherStreamsTheSameGenerationWithBackpressure() throws Exception {
        Generation ref = model.generate("Once upon a time", GenerateOptions.greedy().withMaxTokens(40));
        Flow.Publisher<GenerationEvent> p = model.generateStreaming("Once upon a time", GenerateOptions.greedy().withMaxTokens(40));
        Collector c = new Collector(-1);
        p.subscribe(c);
        c.done.get(60, TimeUnit.SECONDS);
        StringBuilder text = new StringBuilder();
        for (GenerationEvent e : c.events) {
            if (e instanceof GenerationEvent.Text t) {
                text.append(t.text());
            }
        }
        assertThat(text.toString()).isEqualTo(ref.text());
        assertThat(c.events.getLast()).isInstanceOf(GenerationEvent.Completed.class);
        assertThat(((GenerationEvent.Completed) c.events.getLast()).result().tokenIds()).containsExactly(ref.tokenIds());

        // single use: a second subscriber is refused
        Collector second = new Collector(-1);
        p.subscribe(second);
        assertThatThrownBy(() -> second.done.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);

        // a cancelled subscription stops the generation (no Completed ever arrives)
        Collector early = new Collector(3);
        model.generateStreaming("Once upon a time", GenerateOptions.greedy().withMaxTokens(400)).subscribe(early);
        early.done.get(60, TimeUnit.SECONDS);
        Thread.sleep(200);
        assertThat(early.events).hasSize(3).noneMatch(e -> e instanceof GenerationEvent.Completed);

        // errors arrive through onError
        Collector failing = new Collector(-1);
        model.generateStreaming("x".repeat(4000), GenerateOptions.greedy()).subscribe(failing);
        assertThatThrownBy(() -> failing.done.get(60, TimeUnit.SECONDS)).hasCauseInstanceOf(dev.think4j.Think4jException.class)
                .hasMessageContaining("context");
    }

    @Test
    void chatSessionKeepsItsCacheAcrossTurns() {
        GenerateOptions opts = GenerateOptions.greedy().withMaxTokens(24);
        try (ChatSession chat = model.newChatSession()) {
            Generation first = chat.send("Once upon a time", opts);
            assertThat(first.cachedTokens()).isZero();
            int afterFirst = chat.position();
            assertThat(afterFirst).isEqualTo(first.promptTokens() + first.generatedTokens() - 1);
            assertThat(chat.kvBytes()).isPositive();

            Generation second = chat.send("Lily and Ben went to the park.", opts);
            // the second turn reused everything the first left in the cache and computed only the new tokens
            assertThat(second.cachedTokens()).isEqualTo(afterFirst);
            int rendered = model.tokenize(model.renderChat(chat.messages().subList(0, 3))).length;
            assertThat(second.promptTokens()).isEqualTo(rendered - afterFirst).isLessThan(rendered / 2);
            assertThat(chat.position()).isGreaterThan(afterFirst);
            assertThat(chat.messages()).extracting(ChatMessage::role).containsExactly("user", "assistant", "user", "assistant");

            // the reply is the one a fresh, uncached run of the same conversation gives
            Generation fresh = model.chat(chat.messages().subList(0, 3), opts);
            assertThat(second.text()).isEqualTo(fresh.text());
            assertThat(fresh.cachedTokens()).isZero();

            chat.reset();
            assertThat(chat.position()).isZero();
            assertThat(chat.messages()).isEmpty();
        }
    }

    @Test
    void aSessionRefusesASecondCallWhileOneRuns() {
        try (ChatSession chat = model.newChatSession("You tell stories.")) {
            Throwable[] inner = new Throwable[1];
            chat.send("Once upon a time", GenerateOptions.greedy().withMaxTokens(4), e -> {
                if (inner[0] == null) {
                    try {
                        chat.send("again");
                        inner[0] = new AssertionError("second call accepted");
                    } catch (IllegalStateException expected) {
                        inner[0] = expected;
                    }
                }
            });
            assertThat(inner[0]).isInstanceOf(IllegalStateException.class).hasMessageContaining("not thread-safe");
            assertThat(chat.messages()).hasSize(3);
        }
    }

    @Test
    void theModelIsSharedByThreads() throws Exception {
        String[] prompts = {"Once upon a time", "Lily and Ben", "The cat sat", "One day, a big dog"};
        List<String> serial = new ArrayList<>();
        for (String p : prompts) {
            serial.add(model.generate(p, GenerateOptions.greedy().withMaxTokens(32)).text());
        }
        List<CompletableFuture<String>> parallel = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (String p : prompts) {
            parallel.add(CompletableFuture.supplyAsync(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
                return model.generate(p, GenerateOptions.greedy().withMaxTokens(32)).text();
            }, r -> Thread.ofPlatform().start(r)));
        }
        start.countDown();
        for (int i = 0; i < prompts.length; i++) {
            assertThat(parallel.get(i).get(60, TimeUnit.SECONDS)).isEqualTo(serial.get(i));
        }
    }

    @Test
    void closeFreesAndLaterUseFailsClearly() {
        LocalModel m = Think4j.builder(MODEL).kv("think:0.5+kivi:2").load();
        ChatSession chat = m.newChatSession();
        chat.send("Once upon a time", GenerateOptions.greedy().withMaxTokens(8));
        ChatSession other = m.newChatSession();
        other.close();
        assertThatThrownBy(() -> other.send("hello")).isInstanceOf(IllegalStateException.class)
                .hasMessage("this ChatSession is closed");
        m.close();
        m.close(); // idempotent
        assertThat(m.isClosed()).isTrue();
        assertThatThrownBy(() -> m.generate("Once")).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        assertThatThrownBy(() -> m.tokenize("Once")).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        assertThatThrownBy(() -> m.newChatSession()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> chat.send("more")).isInstanceOf(IllegalStateException.class)
                .hasMessage("the LocalModel of this ChatSession is closed");
        assertThatThrownBy(chat::position).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closingFromAListenerCancelsThenFrees() {
        LocalModel m = Think4j.load(MODEL);
        Generation g = m.generate("Once upon a time", GenerateOptions.greedy().withMaxTokens(200).withStopStrings("zzz"), e -> {
            if (e instanceof GenerationEvent.Token t && t.index() == 2) {
                m.close();
            }
        });
        assertThat(g.finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(g.generatedTokens()).isEqualTo(3);
        assertThatThrownBy(() -> m.generate("Once")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badOptionsAreIllegalArguments() {
        assertThatThrownBy(() -> GenerateOptions.defaults().withTopP(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("top-p");
        assertThatThrownBy(() -> GenerateOptions.defaults().withMaxTokens(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Think4j.builder(MODEL).contextLength(1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Think4j.load(Path.of("no-such-model.gguf"))).isInstanceOf(dev.think4j.Think4jException.class);
        assertThatThrownBy(() -> ChatMessage.user(null)).isInstanceOf(NullPointerException.class);
    }
}
