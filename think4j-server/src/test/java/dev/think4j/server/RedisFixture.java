package dev.think4j.server;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A real redis-server (or valkey-server) on a free loopback port, without persistence, in a temporary
 * directory. Tests that need one skip, saying how to install it, when neither binary is on the PATH.
 */
final class RedisFixture implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final String password;
    private Process process;

    private RedisFixture(Path dir, int port, String password) {
        this.dir = dir;
        this.port = port;
        this.password = password;
    }

    /** The server binary, or null; THINK4J_REDIS_SERVER names one (or "none", to see the tests skip). */
    static Path binary() {
        String forced = System.getenv("THINK4J_REDIS_SERVER");
        if (forced != null && !forced.isBlank()) {
            Path p = Path.of(forced);
            return Files.isExecutable(p) ? p : null;
        }
        String path = System.getenv("PATH");
        for (String name : List.of("redis-server", "valkey-server")) {
            for (String d : (path == null ? "/usr/bin:/usr/local/bin" : path).split(File.pathSeparator)) {
                Path p = Path.of(d, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    /** Skips the calling test when there is no server binary. */
    static void assumeAvailable() {
        Assumptions.assumeTrue(binary() != null,
                "redis-server (or valkey-server) is not on the PATH: the kv store tests need it (apt-get install redis-server)");
    }

    static RedisFixture start() throws Exception {
        return start(null);
    }

    /** Starts a server that requires {@code password} (null: none). */
    static RedisFixture start(String password) throws Exception {
        assumeAvailable();
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            RedisFixture f = new RedisFixture(Files.createTempDirectory("think4j-redis"), freePort(), password);
            try {
                f.launch();
                return f;
            } catch (IOException e) {
                // another process may have taken the port between the probe and the start
                last = e;
                f.close();
            }
        }
        throw last;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** (Re)starts the server on the same port, e.g. after {@link #stop()}. */
    void launch() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "no", "--logfile", ""));
        if (password != null) {
            cmd.addAll(List.of("--requirepass", password));
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited with " + process.exitValue() + ": " + log());
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new IOException("redis-server did not listen on port " + port + " within 10 s: " + log());
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("redis.log")).strip();
        } catch (IOException e) {
            return "(no log)";
        }
    }

    int port() {
        return port;
    }

    String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Kills the server (the port stays this fixture's for {@link #launch()}). */
    void stop() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
            process = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind is harmless
        }
    }
}
