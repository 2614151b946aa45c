package dev.think4j.bench.llamacpp;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Points file descriptor 2 at a file while llama.cpp runs, so its console logging (hundreds of lines
 * per model load) does not bury the progress lines; those go to a stream on a duplicate of the
 * original stderr instead. Linux/glibc only (dup, dup2 and creat through the FFM API); where that is
 * not available nothing is redirected and {@link #progress()} is plain {@code System.err}.
 */
final class NativeStderr implements AutoCloseable {
    private final MethodHandle dup2;
    private final MethodHandle close;
    private final int saved;
    private final PrintStream progress;

    private NativeStderr(MethodHandle dup2, MethodHandle close, int saved, PrintStream progress) {
        this.dup2 = dup2;
        this.close = close;
        this.saved = saved;
        this.progress = progress;
    }

    /** Redirects native stderr to {@code file}; returns a no-op instance if that is not possible. */
    static NativeStderr redirectTo(Path file) {
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            MethodHandle dup = linker.downcallHandle(libc.find("dup").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle dup2 = linker.downcallHandle(libc.find("dup2").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle creat = linker.downcallHandle(libc.find("creat").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            System.err.flush();
            int saved = (int) dup.invokeExact(2);
            if (saved < 0) {
                return none();
            }
            PrintStream progress = new PrintStream(new FileOutputStream("/proc/self/fd/" + saved, true), true,
                    StandardCharsets.UTF_8);
            int fd;
            try (Arena arena = Arena.ofConfined()) {
                fd = (int) creat.invokeExact(arena.allocateFrom(file.toString()), 0644);
            }
            if (fd < 0) {
                int ignored = (int) close.invokeExact(saved);
                return none();
            }
            int r = (int) dup2.invokeExact(fd, 2);
            int ignored = (int) close.invokeExact(fd);
            if (r < 0) {
                ignored = (int) close.invokeExact(saved);
                return none();
            }
            return new NativeStderr(dup2, close, saved, progress);
        } catch (Throwable t) {
            return none();
        }
    }

    static NativeStderr none() {
        return new NativeStderr(null, null, -1, System.err);
    }

    boolean redirected() {
        return saved >= 0;
    }

    /** Where progress lines should go while the redirect is in place. */
    PrintStream progress() {
        return progress;
    }

    @Override
    public void close() throws IOException {
        if (saved < 0) {
            return;
        }
        progress.flush();
        System.err.flush();
        try {
            int r = (int) dup2.invokeExact(saved, 2);
            int ignored = (int) close.invokeExact(saved);
        } catch (Throwable t) {
            throw new IOException("could not restore stderr", t);
        }
        progress.close();
    }
}
