package io.checkpointd.dirty;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Whether the running kernel tracks soft-dirty bits, tested on this process rather than guessed from the
 * kernel version or config: a kernel without {@code CONFIG_MEM_SOFT_DIRTY} accepts {@code clear_refs}
 * writes and serves pagemap like any other, only bit 55 never gets set.
 */
public final class SoftDirtySupport {
    /** The reason when a write leaves no trace: the usual case of a kernel built without soft-dirty. */
    public static final String NO_SOFT_DIRTY_REASON = "kernel lacks CONFIG_MEM_SOFT_DIRTY: bit 55 stayed clear after a write";

    private static final long PRESENT = 1L << 63;

    private SoftDirtySupport() {
    }

    /**
     * The outcome of {@link #probe()}.
     *
     * @param reason one line: why soft-dirty cannot be used, or what showed that it works
     */
    public record Probe(boolean supported, String reason) {
    }

    /**
     * Tests soft-dirty tracking on a page of this process: maps a one-page file shared (the kind of mapping
     * QEMU's {@code share=on} RAM is), touches it, clears soft-dirty bits with {@code clear_refs}, checks
     * bit 55 is clear, writes the page and checks bit 55 is set. Takes about a millisecond; as a side
     * effect the JVM's own pages are write-protected once, so each takes one minor fault on its next write.
     */
    public static Probe probe() {
        return probe(Path.of("/proc/self"));
    }

    /** {@link #probe()} through {@code procSelfDir}, which must be this process's proc directory or missing (tests). */
    static Probe probe(Path procSelfDir) {
        Path pageFile = null;
        try (Arena arena = Arena.ofConfined()) {
            pageFile = Files.createTempFile("checkpointd-soft-dirty-probe", ".page");
            MemorySegment page;
            try (FileChannel file = FileChannel.open(pageFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                page = file.map(FileChannel.MapMode.READ_WRITE, 0, PagemapDecoder.KERNEL_PAGE_BYTES, arena);
            }
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            clearSoftDirtyBits(procSelfDir);
            long cleared = pagemapEntry(procSelfDir, page.address());
            if ((cleared & PagemapDecoder.SOFT_DIRTY) != 0) {
                return new Probe(false, "clear_refs 4 left bit 55 set: soft-dirty bits cannot be cleared");
            }
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 2);
            long written = pagemapEntry(procSelfDir, page.address());
            if ((written & PRESENT) == 0) {
                return new Probe(false, "pagemap does not show a just-written page as present: entries unreadable");
            }
            if ((written & PagemapDecoder.SOFT_DIRTY) == 0) {
                return new Probe(false, NO_SOFT_DIRTY_REASON);
            }
            return new Probe(true, "bit 55 cleared by clear_refs 4 and set again by a write");
        } catch (IOException e) {
            return new Probe(false, describe(e));
        } finally {
            if (pageFile != null) {
                try {
                    Files.deleteIfExists(pageFile);
                } catch (IOException e) {
                    // A leftover 4 KiB temp file does not change the answer.
                }
            }
        }
    }

    private static void clearSoftDirtyBits(Path procDir) throws IOException {
        try (FileChannel clearRefs = FileChannel.open(procDir.resolve("clear_refs"), StandardOpenOption.WRITE)) {
            clearRefs.write(ByteBuffer.wrap("4".getBytes(StandardCharsets.US_ASCII)));
        }
    }

    private static long pagemapEntry(Path procDir, long address) throws IOException {
        ByteBuffer entry = ByteBuffer.allocate(PagemapDecoder.ENTRY_BYTES).order(ByteOrder.nativeOrder());
        long offset = Long.divideUnsigned(address, PagemapDecoder.KERNEL_PAGE_BYTES) * PagemapDecoder.ENTRY_BYTES;
        try (FileChannel pagemap = FileChannel.open(procDir.resolve("pagemap"), StandardOpenOption.READ)) {
            while (entry.hasRemaining()) {
                if (pagemap.read(entry, offset + entry.position()) <= 0) {
                    throw new IOException(procDir.resolve("pagemap") + ": no entry for address 0x" + Long.toHexString(address));
                }
            }
        }
        return entry.getLong(0);
    }

    /** One line for a log: which file and what went wrong (NIO's own messages are often just the path). */
    static String describe(IOException e) {
        if (e instanceof FileSystemException fs) {
            String why = fs.getReason() != null ? fs.getReason()
                    : e instanceof NoSuchFileException ? "no such file"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e.getClass().getSimpleName();
            return fs.getFile() + ": " + why;
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replace('\n', ' ');
    }
}
