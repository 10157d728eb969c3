package io.checkpointd.disk;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Makes byte ranges of an image file read as zeroes: trims and write-zeroes on the primary, and the same
 * records replayed on the replica.
 *
 * <p>Where the filesystem allows, this is one {@code fallocate(2)} call (punch a hole, or zero the range
 * keeping it allocated), so a guest trimming its whole disk costs no I/O. The JDK has no fallocate, so it
 * is called through the foreign function API on a second descriptor of the same file (same inode, same
 * page cache as the {@link FileChannel}). When that is unavailable (not Linux, native access denied, a
 * filesystem without hole punching) zeroes are written, which gives the same bytes more slowly. Either
 * way primary and replica end up byte-identical.
 *
 * <p>Thread-safe: calls on one instance may run concurrently (positional writes and fallocate both are).
 */
public final class ImageZeroer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ImageZeroer.class);

    // linux/falloc.h
    private static final int FALLOC_FL_KEEP_SIZE = 0x01;
    private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    private static final int FALLOC_FL_ZERO_RANGE = 0x10;
    // fcntl.h (same values on x86-64 and aarch64)
    private static final int O_WRONLY = 0x1;
    private static final int O_CLOEXEC = 0x80000;

    private static final int ZERO_CHUNK_BYTES = 1 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(ZERO_CHUNK_BYTES).asReadOnlyBuffer();

    private static final Libc LIBC = Libc.load();

    private final FileChannel channel;
    private final Path path;
    /** A descriptor of the image for fallocate, or -1 when native calls are unavailable. */
    private final int fd;
    private volatile boolean fallocateFailed;

    private ImageZeroer(FileChannel channel, Path path, int fd) {
        this.channel = channel;
        this.path = path;
        this.fd = fd;
    }

    /**
     * @param image   the image file {@code channel} has open for writing
     * @param channel where zeroes are written when fallocate cannot be used; not closed by {@link #close}
     */
    public static ImageZeroer open(Path image, FileChannel channel) {
        Objects.requireNonNull(channel, "channel");
        int fd = LIBC == null ? -1 : LIBC.openForWrite(image);
        if (fd < 0) {
            LOG.info("{}: zeroing by writing zeroes ({})", image,
                    LIBC == null ? "fallocate is not callable here" : "could not open a second descriptor");
        }
        return new ImageZeroer(channel, image, fd);
    }

    /** An instance that always writes zeroes: for tests of that path. */
    static ImageZeroer writingZeroes(Path image, FileChannel channel) {
        return new ImageZeroer(channel, image, -1);
    }

    /**
     * Makes {@code length} bytes at {@code offset} read as zeroes. The file never grows: a range past its
     * end must be rejected by the caller.
     *
     * @param deallocate true to free the blocks (a trim, or write-zeroes without NO_HOLE); false to keep the
     *                   range allocated so a later write there cannot fail for lack of space
     */
    public void zero(long offset, long length, boolean deallocate) throws IOException {
        if (length == 0) {
            return;
        }
        if (fd >= 0) {
            int mode = FALLOC_FL_KEEP_SIZE | (deallocate ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
            int errno = LIBC.fallocate(fd, mode, offset, length);
            if (errno == 0) {
                return;
            }
            if (!fallocateFailed) {
                fallocateFailed = true;
                LOG.info("{}: fallocate(mode {}) failed with errno {}; writing zeroes instead", path, mode, errno);
            }
        }
        writeZeroes(offset, length);
    }

    /** True if {@link #zero} is a metadata operation here rather than a write of every byte. */
    public boolean canZeroFast() {
        return fd >= 0 && !fallocateFailed;
    }

    private void writeZeroes(long offset, long length) throws IOException {
        ByteBuffer zeroes = ZEROES.duplicate();
        long done = 0;
        while (done < length) {
            zeroes.clear().limit((int) Math.min(ZERO_CHUNK_BYTES, length - done));
            while (zeroes.hasRemaining()) {
                done += channel.write(zeroes, offset + done);
            }
        }
    }

    /** Closes the second descriptor (not the channel). */
    @Override
    public void close() {
        if (fd >= 0) {
            LIBC.close(fd);
        }
    }

    /** The three libc calls, bound once; null when the foreign function API cannot reach them. */
    @SuppressWarnings("restricted") // native access is what this class is for; the launchers enable it
    private record Libc(MethodHandle open, MethodHandle fallocate, MethodHandle close, StructLayout callState,
                        VarHandle errno) {
        static Libc load() {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                Linker.Option captureErrno = Linker.Option.captureCallState("errno");
                StructLayout callState = Linker.Option.captureStateLayout();
                MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                        Linker.Option.firstVariadicArg(2));
                MethodHandle fallocate = linker.downcallHandle(libc.find("fallocate").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), captureErrno);
                MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                VarHandle errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                return new Libc(open, fallocate, close, callState, errno);
            } catch (Throwable e) { // no native access, no such symbol, ...: all mean "write zeroes"
                LOG.info("fallocate is not callable ({}); image ranges will be zeroed by writing zeroes", e.toString());
                return null;
            }
        }

        int openForWrite(Path file) {
            try (Arena arena = Arena.ofConfined()) {
                return (int) open.invokeExact(arena.allocateFrom(file.toString()), O_WRONLY | O_CLOEXEC);
            } catch (Throwable e) {
                return -1;
            }
        }

        /** @return 0 on success, else the errno */
        int fallocate(int fd, int mode, long offset, long length) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(callState);
                int rc = (int) fallocate.invokeExact(state, fd, mode, offset, length);
                return rc == 0 ? 0 : Math.max(1, (int) errno.get(state, 0L));
            } catch (Throwable e) {
                return -1;
            }
        }

        void close(int fd) {
            try {
                int ignored = (int) close.invokeExact(fd);
            } catch (Throwable e) {
                LOG.debug("close({}) failed", fd, e);
            }
        }
    }
}
