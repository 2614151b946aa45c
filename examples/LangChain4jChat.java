import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.SystemMessage;
import dev.think4j.langchain4j.Think4jChatModel;
import java.nio.file.Path;

/**
 * think4j behind a LangChain4j AI service: the model runs in this process with a ThinK-compressed KV
 * cache. Needs think4j-langchain4j and dev.langchain4j:langchain4j on the class path, and the JVM flags
 * {@code --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED}.
 */
public class LangChain4jChat {
    interface Storyteller {
        @SystemMessage("You tell short stories.")
        String tell(String start);
    }

    public static void main(String[] args) {
        Path model = Path.of(args.length > 0 ? args[0] : "models/stories260K.gguf");
        try (Think4jChatModel chat = Think4jChatModel.builder().modelPath(model).kv("think:0.5").maxTokens(48).temperature(0.0).build()) {
            Storyteller teller = AiServices.create(Storyteller.class, chat);
            System.out.println(teller.tell("Once upon a time"));
        }
    }
}
