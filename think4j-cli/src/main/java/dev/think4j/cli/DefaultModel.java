package dev.think4j.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the bundled model lives: {@code models/stories260K.gguf} under the repository root, found
 * from -Dthink4j.home (set by the launcher), else from the running jar's location (think4j-cli/target/../..),
 * else the working directory.
 */
public final class DefaultModel {
    public static final String RELATIVE = "models/stories260K.gguf";

    private DefaultModel() {
    }

    public static Path path() {
        String home = System.getProperty("think4j.home");
        if (home != null) {
            return Path.of(home).resolve(RELATIVE);
        }
        try {
            Path jar = Path.of(DefaultModel.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path root = jar.getParent(); root != null; root = root.getParent()) {
                if (Files.exists(root.resolve(RELATIVE))) {
                    return root.resolve(RELATIVE);
                }
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the working directory
        }
        return Path.of(RELATIVE).toAbsolutePath();
    }
}
