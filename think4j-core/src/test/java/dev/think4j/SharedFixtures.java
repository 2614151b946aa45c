package dev.think4j;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates ../shared (reference outputs, eval data, extra models). Tests that need it call
 * {@link #require(String)}, which skips the test with a clear message on a clone without shared/.
 */
public final class SharedFixtures {
    private SharedFixtures() {
    }

    public static Path root() {
        String prop = System.getProperty("think4j.shared");
        Path p = prop != null ? Path.of(prop) : Path.of("..", "shared");
        return p.toAbsolutePath().normalize();
    }

    /** Path of a file under shared/, or skips the calling test when it is absent. */
    public static Path require(String relative) {
        Path p = root().resolve(relative);
        assumeTrue(Files.exists(p), "skipped: " + p + " not present (the ../shared fixtures folder is not beside this clone)");
        return p;
    }

    /** The default model bundled in the repository (always present). */
    public static Path bundledModel() {
        return Path.of("models", "stories260K.gguf").toAbsolutePath();
    }
}
