package dev.think4j.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Optional;

/**
 * A private copy of a file in anonymous memory backed by transparent huge pages, for weights that
 * are streamed once per token. Decode reads every weight on every token; through a file mapping
 * that is a 4 KiB page per TLB entry and hardware prefetchers that stop at each page boundary, and
 * measured decode on a 1B Q4_K_M file ran at 9-10 GB/s mapped against about twice that from huge
 * pages. The copy replaces the mapping (the file's pages are read, not mapped), so resident memory
 * is still about one file's size.
 *
 * <p>Linux only (mmap/madvise through FFM); elsewhere, or when the calls fail, {@link #load} returns
 * empty and the caller maps the file as before.
 */
final class ResidentCopy {
    private static final long HUGE_PAGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;

    private static final MethodHandle MMAP;
    private static final MethodHandle MADVISE;
    private static final MethodHandle MUNMAP;

    static {
        MethodHandle mmap = null;
        MethodHandle madvise = null;
        MethodHandle munmap = null;
        if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_LONG));
                madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            } catch (RuntimeException | LinkageError e) {
                mmap = null;
            }
        }
        MMAP = mmap;
        MADVISE = madvise;
        MUNMAP = munmap;
    }

    private ResidentCopy() {
    }

    /**
     * Reads {@code size} bytes of {@code channel} into fresh huge-page-backed memory that lives as
     * long as {@code arena}; empty when that memory cannot be had (the caller then maps the file).
     */
    static Optional<MemorySegment> load(FileChannel channel, long size, Arena arena) throws IOException {
        if (MMAP == null || size <= 0) {
            return Optional.empty();
        }
        long length = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        MemorySegment address;
        try {
            address = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, length, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
        } catch (Throwable e) {
            return Optional.empty();
        }
        if (address.address() == -1L || address.address() == 0L) {
            return Optional.empty();
        }
        MemorySegment region = address.reinterpret(length, arena, r -> unmap(r.address(), length));
        try {
            // Advice before the first touch, so that the page faults below take huge pages.
            int ignored = (int) MADVISE.invokeExact(address, length, MADV_HUGEPAGE);
        } catch (Throwable e) {
            // without the advice the copy still works, on small pages
        }
        MemorySegment data = region.asSlice(0, size);
        long done = 0;
        while (done < size) {
            int step = (int) Math.min(1L << 30, size - done);
            ByteBuffer target = data.asSlice(done, step).asByteBuffer();
            while (target.hasRemaining()) {
                if (channel.read(target, done + target.position()) < 0) {
                    throw new IOException("file ended at byte " + (done + target.position()) + " of " + size);
                }
            }
            done += step;
        }
        return Optional.of(data);
    }

    private static void unmap(long address, long length) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), length);
        } catch (Throwable e) {
            // the process is ending or the region is gone: nothing to free
        }
    }
}
