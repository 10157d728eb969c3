package io.checkpointd.sim;

import io.checkpointd.dirty.ExactTracker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A guest thread that dirties pages at a set rate: a fraction of writes land in a hot set at the start of
 * the workload region, the rest anywhere in it. It stands in for a guest's working set.
 *
 * <p>Writes come in small batches, each inside the safepoint, so a pause waits at most one batch.
 */
final class DirtyingWorkload implements Runnable {
    private static final long BATCH_PERIOD_NS = TimeUnit.MILLISECONDS.toNanos(1);

    private final MemorySegment ram;
    private final Safepoint safepoint;
    private final ExactTracker tracker;
    private final int pageSizeBytes;
    private final long firstPage;
    private final long pageCount;
    private final long hotPageCount;
    private final double hotFraction;
    private final double pagesPerNs;
    private final SplittableRandom random;
    private volatile boolean running = true;

    DirtyingWorkload(MemorySegment ram, Safepoint safepoint, ExactTracker tracker, int pageSizeBytes,
                     long regionOffsetBytes, long hotSetBytes, double hotFraction, double pagesPerSecond, long seed) {
        this.ram = ram;
        this.safepoint = safepoint;
        this.tracker = tracker;
        this.pageSizeBytes = pageSizeBytes;
        this.firstPage = regionOffsetBytes / pageSizeBytes;
        this.pageCount = ram.byteSize() / pageSizeBytes - firstPage;
        this.hotPageCount = Math.max(1, Math.min(pageCount, hotSetBytes / pageSizeBytes));
        this.hotFraction = hotFraction;
        this.pagesPerNs = pagesPerSecond / 1e9;
        this.random = new SplittableRandom(seed);
    }

    void stop() {
        running = false;
    }

    @Override
    public void run() {
        long startNs = System.nanoTime();
        long written = 0;
        while (running) {
            long due = (long) ((System.nanoTime() - startNs) * pagesPerNs) - written;
            if (due > 0) {
                safepoint.enter();
                try {
                    for (long i = 0; i < due; i++) {
                        writeOnePage();
                    }
                } finally {
                    safepoint.exit();
                }
                written += due;
            }
            LockSupport.parkNanos(BATCH_PERIOD_NS);
        }
    }

    private void writeOnePage() {
        long page = firstPage + (random.nextDouble() < hotFraction
                ? random.nextLong(hotPageCount)
                : random.nextLong(pageCount));
        long offset = page * pageSizeBytes + random.nextInt(pageSizeBytes / Long.BYTES) * (long) Long.BYTES;
        // Increment rather than store random bits: guest data has structure, so compression ratios are honest
        // neither for fully random nor for all-zero pages.
        ram.set(ValueLayout.JAVA_LONG, offset, ram.get(ValueLayout.JAVA_LONG, offset) + 1);
        tracker.markDirty(page);
    }
}
