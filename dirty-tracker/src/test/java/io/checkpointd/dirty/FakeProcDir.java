package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * A stand-in for {@code /proc/PID}: a sparse {@code pagemap} file whose entries the test sets, and a
 * {@code clear_refs} file that records what was written to it. It plays the kernel's part on request:
 * {@link #applyClearRefs()} clears the soft-dirty bits when {@code 4} was written.
 */
final class FakeProcDir implements AutoCloseable {
    static final long PRESENT = 1L << 63;
    static final long SWAPPED = 1L << 62;
    static final long FILE_PAGE = 1L << 61;
    /** x86-64 with 4-level paging: user addresses are below 2^47. */
    static final long USER_SPACE_END = 1L << 47;

    private final Path dir;
    private final FileChannel pagemap;
    /** Every entry set so far, by 4 KiB virtual page number: what clear_refs must reach. */
    private final Map<Long, Long> entries = new TreeMap<>();

    FakeProcDir(Path dir) throws IOException {
        this.dir = dir;
        this.pagemap = FileChannel.open(dir.resolve("pagemap"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
        Files.createFile(dir.resolve("clear_refs"));
        // Like the real file, entries exist (as zeros) up to the end of the user address space: a sparse hole.
        pagemap.write(ByteBuffer.allocate(8), (USER_SPACE_END / PagemapDecoder.KERNEL_PAGE_BYTES - 1) * 8);
    }

    Path dir() {
        return dir;
    }

    void setEntry(long address, long entry) throws IOException {
        long virtualPage = address / PagemapDecoder.KERNEL_PAGE_BYTES;
        ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, entry);
        pagemap.write(bytes, virtualPage * 8);
        entries.put(virtualPage, entry);
    }

    /** Sets the soft-dirty bit of the 4 KiB page at {@code address}, as a write by the process would. */
    void write(long address) throws IOException {
        long entry = entries.getOrDefault(address / PagemapDecoder.KERNEL_PAGE_BYTES, PRESENT | FILE_PAGE);
        setEntry(address, entry | PagemapDecoder.SOFT_DIRTY);
    }

    /** What the tracker wrote to clear_refs since the last {@link #applyClearRefs()}. */
    String clearRefsWritten() throws IOException {
        return Files.readString(dir.resolve("clear_refs"), StandardCharsets.US_ASCII);
    }

    /** Asserts the tracker wrote {@code 4} to clear_refs, then does what the kernel does on that. */
    void applyClearRefs() throws IOException {
        assertThat(clearRefsWritten()).isEqualTo("4");
        for (Map.Entry<Long, Long> e : Map.copyOf(entries).entrySet()) {
            setEntry(e.getKey() * PagemapDecoder.KERNEL_PAGE_BYTES, e.getValue() & ~PagemapDecoder.SOFT_DIRTY);
        }
        Files.writeString(dir.resolve("clear_refs"), "");
    }

    @Override
    public void close() throws IOException {
        pagemap.close();
    }
}
