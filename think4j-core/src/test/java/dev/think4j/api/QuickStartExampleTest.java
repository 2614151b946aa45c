package dev.think4j.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** examples/QuickStart.java compiles against the API and runs on the bundled model: the README's example cannot rot. */
class QuickStartExampleTest {
    @TempDir
    Path out;

    @Test
    void compilesAndRuns() throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, "-d", out.toString(), "-cp", System.getProperty("java.class.path"),
                Path.of("examples", "QuickStart.java").toString());
        assertThat(rc).as(diagnostics.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(Files.exists(out.resolve("QuickStart.class"))).isTrue();

        PrintStream saved = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {out.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            loader.loadClass("QuickStart").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(saved);
        }
        String text = printed.toString(StandardCharsets.UTF_8);
        assertThat(text).startsWith(", there was a little girl").contains("[48 tokens, MAX_TOKENS, KV ")
                .containsPattern("\\[turn 2 computed \\d+ new prompt tokens and reused [1-9]\\d* cached ones]");
    }
}
