import dev.think4j.api.ChatSession;
import dev.think4j.api.GenerateOptions;
import dev.think4j.api.Generation;
import dev.think4j.api.GenerationEvent;
import dev.think4j.api.KvConfig;
import dev.think4j.api.LocalModel;
import dev.think4j.api.Think4j;
import java.nio.file.Path;

/**
 * think4j from Java: load a model with a compressed KV cache, generate, stream, chat.
 *
 * <p>From the repository root, after {@code ./think4j --help} (or {@code mvn -DskipTests package}) built the jar:
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp target/think4j.jar examples/QuickStart.java [model.gguf]
 * </pre>
 * Without an argument it runs the bundled models/stories260K.gguf.
 */
public class QuickStart {
    public static void main(String[] args) {
        Path path = Path.of(args.length > 0 ? args[0] : "models/stories260K.gguf");
        KvConfig kv = KvConfig.builder().think(0.5).build();   // the same as --kv think:0.5

        try (LocalModel model = Think4j.builder(path).kv(kv).load()) {
            // 1. one call, greedy (a 5-token prompt is within ThinK's 32-token window, so nothing is pruned yet)
            Generation g = model.generate("Once upon a time", GenerateOptions.greedy().withMaxTokens(48));
            System.out.println(g.text());
            System.out.printf("[%d tokens, %s, KV %d bytes of %d uncompressed]%n",
                    g.generatedTokens(), g.finishReason(), g.kvBytes(), g.kvBytesUncompressed());

            // 2. streaming: text arrives as it is generated
            model.generate("Lily and Ben", GenerateOptions.defaults().withMaxTokens(48), event -> {
                if (event instanceof GenerationEvent.Text t) {
                    System.out.print(t.text());
                    System.out.flush();
                }
            });
            System.out.println();

            // 3. a conversation that keeps its KV cache between turns
            try (ChatSession chat = model.newChatSession()) {
                System.out.println(chat.send("Once upon a time", GenerateOptions.greedy().withMaxTokens(32)).text());
                Generation reply = chat.send("The dog ran to the park.", GenerateOptions.greedy().withMaxTokens(32));
                System.out.println(reply.text());
                System.out.printf("[turn 2 computed %d new prompt tokens and reused %d cached ones]%n",
                        reply.promptTokens(), reply.cachedTokens());
            }
        }
    }
}
