package dev.think4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.think4j.Think4jException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** serve's own options: bad values are one-line user errors before anything listens. */
class ServeCommandTest {
    private static void assertUserError(CliRunner r, String fragment) {
        assertThat(r.exitCode()).as("stderr: %s", r.err()).isEqualTo(Main.EXIT_USER_ERROR);
        assertThat(r.err()).contains(fragment).doesNotContain("\tat ");
        assertThat(r.err().lines().filter(l -> l.startsWith("error: ")).count()).isEqualTo(1);
    }

    @Test
    void shutdownGraceTakesCommonDurationForms() {
        assertThat(ServeCommand.duration("--shutdown-grace", "10s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(ServeCommand.duration("--shutdown-grace", "500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(ServeCommand.duration("--shutdown-grace", "2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(ServeCommand.duration("--shutdown-grace", "1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(ServeCommand.duration("--shutdown-grace", "0")).isEqualTo(Duration.ZERO);
        assertThat(ServeCommand.duration("--shutdown-grace", "3")).isEqualTo(Duration.ofSeconds(3));
        assertThat(ServeCommand.duration("--shutdown-grace", "PT20S")).isEqualTo(Duration.ofSeconds(20));
        for (String bad : new String[] {"-1s", "soon", "", "10 parsecs", "PT-5S"}) {
            assertThatThrownBy(() -> ServeCommand.duration("--shutdown-grace", bad)).as(bad)
                    .isInstanceOf(Think4jException.class).hasMessageContaining("--shutdown-grace");
        }
    }

    @Test
    void badServeOptionsAreUserErrors() {
        assertUserError(CliRunner.run("serve", "--port", "0", "--shutdown-grace", "soon"), "--shutdown-grace");
        assertUserError(CliRunner.run("serve", "--port", "0", "--prefill-chunk", "0"), "--prefill-chunk");
        // Parses, but cannot run on the bundled 5-layer model: refused before the port opens.
        assertUserError(CliRunner.run("serve", "--port", "0", "--kv", "think:k=0.5,layers=0.5/0.5"), "5 layers");
    }

    @Test
    void anUnreachableOrMistypedKvStoreIsOneLineBeforeTheModelLoads() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        CliRunner down = CliRunner.run("serve", "--port", "0", "--kv-store", "redis://127.0.0.1:" + closed);
        assertUserError(down, "--kv-store redis://127.0.0.1:" + closed + "/0 is unreachable");
        assertThat(down.err()).contains("Connection refused").doesNotContain("serving ");
        assertUserError(CliRunner.run("serve", "--port", "0", "--kv-store", "http://127.0.0.1:1"), "unknown scheme");
        assertUserError(CliRunner.run("serve", "--port", "0", "--kv-store", "rediss://127.0.0.1:1"), "TLS");
        assertUserError(CliRunner.run("serve", "--port", "0", "--kv-store", "redis://127.0.0.1:1/x"), "database number");
        assertUserError(CliRunner.run("serve", "--port", "0", "--kv-store-ttl", "0"), "--kv-store-ttl");
        assertUserError(CliRunner.run("serve", "--port", "0", "--kv-store-ttl", "forever"), "--kv-store-ttl");
        assertUserError(CliRunner.run("serve", "--bench", "--kv-store", "redis://127.0.0.1:1"), "--bench");
    }
}
