package io.checkpointd.primary;

import io.checkpointd.dirty.DirtyPageSet;
import io.checkpointd.disk.EpochWrites;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A staging buffer: one checkpoint's copy of its dirty pages, contiguous, with their page numbers, and
 * its device state. Filled by the epoch loop while the guest is paused, read by the sender after resume,
 * then returned to the {@link StagingPool} for reuse.
 *
 * <p>Public for the staging-copy and send-path benchmarks in bench/.
 */
public final class Staging implements SendJob, AutoCloseable {
    private final int pageSizeBytes;
    private Arena arena;
    private MemorySegment data = MemorySegment.NULL;
    private long[] pageNumbers = new long[0];
    private int pageCount;

    /** Public for the send-path benchmark in bench/, which stages a checkpoint as the epoch loop does. */
    public long epoch;
    boolean full;
    /** The final, paused part of a live full checkpoint whose BEGIN and rounds were already sent. */
    boolean continuesPreCopy;
    /** Public for the send-path benchmark in bench/, which stages a checkpoint as the epoch loop does. */
    public long linkGeneration;
    byte[] deviceState = new byte[0];
    /** The guest's disk changes of this epoch, in order; null when the guest has no mirrored disk. */
    EpochWrites diskWrites;
    long pauseStartNs;
    long resumedNs;

    public Staging(int pageSizeBytes) {
        this.pageSizeBytes = pageSizeBytes;
    }

    /**
     * Copies every page of {@code dirty} out of {@code ram}, coalescing runs into single copies. Grows the
     * buffer if this checkpoint is the largest yet (the only allocation the paused section can make).
     */
    public void copyFrom(MemorySegment ram, DirtyPageSet dirty) {
        int count = Math.toIntExact(dirty.count());
        ensureCapacity(count);
        int filled = 0;
        long start = dirty.nextPage(0);
        while (start >= 0) {
            long end = dirty.nextClearPage(start);
            MemorySegment.copy(ram, start * pageSizeBytes, data, (long) filled * pageSizeBytes,
                    (end - start) * pageSizeBytes);
            for (long p = start; p < end; p++) {
                pageNumbers[filled++] = p;
            }
            start = dirty.nextPage(end);
        }
        pageCount = filled;
    }

    /** Grows to hold {@code pages} pages now, outside any pause (allocation zeroes and faults the memory in). */
    void reserve(int pages) {
        ensureCapacity(pages);
    }

    private void ensureCapacity(int count) {
        if (pageNumbers.length >= count) {
            return;
        }
        // Growing allocates and zeroes memory inside the pause; doubling makes that happen a handful of
        // times in a run instead of whenever the dirty set sets a new record.
        int capacity = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(count, 2L * pageNumbers.length));
        if (arena != null) {
            arena.close();
        }
        arena = Arena.ofShared();
        data = arena.allocate((long) capacity * pageSizeBytes, 4096);
        pageNumbers = new long[capacity];
    }

    public int pageCount() {
        return pageCount;
    }

    int pageSizeBytes() {
        return pageSizeBytes;
    }

    long pageNumber(int index) {
        return pageNumbers[index];
    }

    /** Pages {@code [from, from + count)} of this checkpoint, contiguous. */
    public MemorySegment pages(int from, int count) {
        return data.asSlice((long) from * pageSizeBytes, (long) count * pageSizeBytes);
    }

    long rawBytes() {
        return (long) pageCount * pageSizeBytes + deviceState.length;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
        }
    }
}
