package dev.think4j.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import dev.think4j.api.ChatMessage;
import dev.think4j.api.GenerateOptions;
import dev.think4j.api.KvConfig;
import dev.think4j.api.LocalModel;
import dev.think4j.api.Think4j;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** examples/LangChain4jChat.java compiles and prints the model's greedy story: the README's example cannot rot. */
@Timeout(120)
class LangChain4jExampleTest {
    @TempDir
    Path out;

    @Test
    void compilesAndRuns() throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, "-d", out.toString(), "-cp", System.getProperty("java.class.path"),
                Path.of("examples", "LangChain4jChat.java").toString());
        assertThat(rc).as(diagnostics.toString(StandardCharsets.UTF_8)).isZero();

        PrintStream saved = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {out.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            loader.loadClass("LangChain4jChat").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(saved);
        }
        String expected;
        try (LocalModel m = Think4j.builder(SharedFixtures.bundledModel()).kv(KvConfig.parse("think:0.5")).load()) {
            expected = m.chat(List.of(ChatMessage.system("You tell short stories."), ChatMessage.user("Once upon a time")),
                    GenerateOptions.greedy().withMaxTokens(48)).text();
        }
        assertThat(printed.toString(StandardCharsets.UTF_8)).isEqualTo(expected + System.lineSeparator());
        assertThat(expected).isNotBlank();
    }
}
