package io.checkpointd.dirty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Finds written pages of a range of another process's memory (QEMU's mapping of the guest RAM) through
 * the kernel's soft-dirty bits: {@code /proc/PID/pagemap} bit 55 is set on a page's first write after
 * {@code 4} was written to {@code /proc/PID/clear_refs}.
 *
 * <p>Needs a kernel built with {@code CONFIG_MEM_SOFT_DIRTY}: without it every bit reads 0 and this
 * tracker would report nothing. Run {@link SoftDirtySupport#probe()} first ({@link TrackerChoice} does).
 *
 * <p>Cost per {@link #collect()}: one read of 8 bytes per 4 KiB of the range (2 MiB for a 1 GiB guest)
 * and a clear_refs write, which write-protects every page of the whole process, so each page's first
 * write in the next epoch takes a minor fault. The scan of the bits is proportional to RAM but touches
 * 1/512 of its bytes.
 *
 * <p>{@code clear_refs} acts on the whole process, so only one soft-dirty tracker may watch a process.
 * Not thread-safe: the epoch loop owns it.
 */
public final class SoftDirtyTracker implements DirtyTracker {
    private static final byte[] CLEAR_SOFT_DIRTY = "4".getBytes(StandardCharsets.US_ASCII);

    private final Path procDir;
    private final FileChannel pagemap;
    private final FileChannel clearRefs;
    private final long firstEntryOffsetBytes;
    private final int entriesPerPage;
    private final ByteBuffer entries;
    private DirtyPageSet current;
    private DirtyPageSet spare;

    /**
     * Watches {@code [startAddress, startAddress + lengthBytes)} of process {@code pid} and clears its
     * soft-dirty bits: the first {@link #collect()} reports pages written from now. Construct it while
     * the guest is paused for the full first checkpoint.
     *
     * @param startAddress a virtual address of the process, 4 KiB aligned; page 0 of the result is here
     * @param lengthBytes a whole number of guest pages
     * @param pageSizeBytes the guest page size, a multiple of 4 KiB
     * @throws IOException when the process's pagemap or clear_refs cannot be opened or written (no such
     *     process, not permitted)
     */
    public SoftDirtyTracker(long pid, long startAddress, long lengthBytes, int pageSizeBytes) throws IOException {
        this(Path.of("/proc", Long.toString(pid)), startAddress, lengthBytes, pageSizeBytes);
    }

    /** As {@link #SoftDirtyTracker(long, long, long, int)}, for the process whose proc directory is {@code procDir}. */
    public SoftDirtyTracker(Path procDir, long startAddress, long lengthBytes, int pageSizeBytes) throws IOException {
        if (pageSizeBytes <= 0 || pageSizeBytes % PagemapDecoder.KERNEL_PAGE_BYTES != 0) {
            throw new IllegalArgumentException("pageSizeBytes must be a positive multiple of "
                    + PagemapDecoder.KERNEL_PAGE_BYTES + ": " + pageSizeBytes);
        }
        if (startAddress % PagemapDecoder.KERNEL_PAGE_BYTES != 0) {
            throw new IllegalArgumentException("startAddress 0x" + Long.toHexString(startAddress) + " is not 4 KiB aligned");
        }
        if (lengthBytes <= 0 || lengthBytes % pageSizeBytes != 0) {
            throw new IllegalArgumentException("lengthBytes " + lengthBytes + " is not a whole number of "
                    + pageSizeBytes + "-byte pages");
        }
        long entryBytes = lengthBytes / PagemapDecoder.KERNEL_PAGE_BYTES * PagemapDecoder.ENTRY_BYTES;
        if (entryBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("range of " + lengthBytes + " bytes is too large for one pagemap read");
        }
        this.procDir = procDir;
        // Unsigned: user-space addresses are below 2^47 on x86-64, but the arithmetic must not care.
        this.firstEntryOffsetBytes = Long.divideUnsigned(startAddress, PagemapDecoder.KERNEL_PAGE_BYTES)
                * PagemapDecoder.ENTRY_BYTES;
        this.entriesPerPage = pageSizeBytes / PagemapDecoder.KERNEL_PAGE_BYTES;
        this.entries = ByteBuffer.allocateDirect((int) entryBytes).order(ByteOrder.nativeOrder());
        long pageCount = lengthBytes / pageSizeBytes;
        this.current = new DirtyPageSet(pageCount);
        this.spare = new DirtyPageSet(pageCount);
        FileChannel opened = FileChannel.open(procDir.resolve("pagemap"), StandardOpenOption.READ);
        try {
            this.clearRefs = FileChannel.open(procDir.resolve("clear_refs"), StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            opened.close();
            throw e;
        }
        this.pagemap = opened;
        try {
            clearSoftDirtyBits();
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "soft-dirty";
    }

    /**
     * Reads the range's soft-dirty bits, then clears them. The guest is paused, so no write can fall
     * between the read and the clear and be lost.
     *
     * @throws UncheckedIOException when the process has gone or its proc files fail
     */
    @Override
    public DirtyPageSet collect() {
        DirtyPageSet result = spare;
        result.clear();
        try {
            readEntries();
            PagemapDecoder.addSoftDirtyPages(entries, entriesPerPage, result);
            clearSoftDirtyBits();
        } catch (IOException e) {
            throw new UncheckedIOException("soft-dirty collect from " + procDir + " failed", e);
        }
        spare = current;
        current = result;
        return result;
    }

    private void readEntries() throws IOException {
        entries.clear();
        // One positioned read normally returns the whole range; the loop covers a short read.
        while (entries.hasRemaining()) {
            int read = pagemap.read(entries, firstEntryOffsetBytes + entries.position());
            if (read <= 0) {
                throw new IOException(procDir.resolve("pagemap") + ": ended at byte "
                        + (firstEntryOffsetBytes + entries.position()) + " before the end of the range");
            }
        }
        entries.flip();
    }

    private void clearSoftDirtyBits() throws IOException {
        ByteBuffer command = ByteBuffer.wrap(CLEAR_SOFT_DIRTY);
        // clear_refs parses each write(2) as a whole command; positional writes keep a regular file (tests) at "4".
        while (command.hasRemaining()) {
            clearRefs.write(command, command.position());
        }
    }

    @Override
    public void close() {
        try {
            try {
                pagemap.close();
            } finally {
                clearRefs.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
