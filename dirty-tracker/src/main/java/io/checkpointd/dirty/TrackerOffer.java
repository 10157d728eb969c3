package io.checkpointd.dirty;

import java.lang.foreign.MemorySegment;

/**
 * What a domain driver can give {@link TrackerChoice} to track its guest's writes; each source is null
 * when the driver cannot offer it. Build with {@link #pageSize(int)} and the {@code with} methods.
 *
 * @param pageSizeBytes the guest page size every tracker reports in
 * @param exact a tracker fed by the guest itself (the sim driver), or null
 * @param softDirtyRange the process and address range mapping the guest RAM (QEMU), or null
 * @param ram the guest RAM, mapped by the daemon, for a scan; or null
 * @param scanThreads threads a scan may use, {@code >= 1}
 */
public record TrackerOffer(int pageSizeBytes, DirtyTracker exact, SoftDirtyRange softDirtyRange, MemorySegment ram,
        int scanThreads) {

    public TrackerOffer {
        if (pageSizeBytes <= 0) {
            throw new IllegalArgumentException("pageSizeBytes must be > 0: " + pageSizeBytes);
        }
        if (scanThreads < 1) {
            throw new IllegalArgumentException("scanThreads must be >= 1: " + scanThreads);
        }
    }

    /** An offer of nothing yet, for pages of {@code pageSizeBytes}; a scan would use every processor. */
    public static TrackerOffer pageSize(int pageSizeBytes) {
        return new TrackerOffer(pageSizeBytes, null, null, null, Runtime.getRuntime().availableProcessors());
    }

    public TrackerOffer withExact(DirtyTracker tracker) {
        return new TrackerOffer(pageSizeBytes, tracker, softDirtyRange, ram, scanThreads);
    }

    public TrackerOffer withSoftDirty(long pid, long startAddress, long lengthBytes) {
        return new TrackerOffer(pageSizeBytes, exact, new SoftDirtyRange(pid, startAddress, lengthBytes), ram,
                scanThreads);
    }

    public TrackerOffer withScan(MemorySegment guestRam) {
        return new TrackerOffer(pageSizeBytes, exact, softDirtyRange, guestRam, scanThreads);
    }

    public TrackerOffer withScanThreads(int threads) {
        return new TrackerOffer(pageSizeBytes, exact, softDirtyRange, ram, threads);
    }

    /** {@code [startAddress, startAddress + lengthBytes)} of process {@code pid}: the guest RAM as it maps it. */
    public record SoftDirtyRange(long pid, long startAddress, long lengthBytes) {
    }
}
