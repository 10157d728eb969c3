package io.checkpointd.driver;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Guest RAM: a file mapped shared into this process.
 *
 * @param segment       the mapping, {@code pageCount * pageSizeBytes} long
 * @param file          the RAM file (what a backup's replica mirrors)
 * @param pageSizeBytes the tracking granularity, a power of two
 */
public record GuestMemory(MemorySegment segment, Path file, int pageSizeBytes) {

    public GuestMemory {
        if (Integer.bitCount(pageSizeBytes) != 1) {
            throw new IllegalArgumentException("page size must be a power of two: " + pageSizeBytes);
        }
        if (segment.byteSize() % pageSizeBytes != 0) {
            throw new IllegalArgumentException(
                    "RAM size " + segment.byteSize() + " is not a multiple of the page size " + pageSizeBytes);
        }
    }

    public long ramBytes() {
        return segment.byteSize();
    }

    public long pageCount() {
        return segment.byteSize() / pageSizeBytes;
    }
}
