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
        // Half counters, half fresh values: what programs store (counters, pointers, data).
        long value = random.nextBoolean() ? ram.get(ValueLayout.JAVA_LONG, offset) + 1 : random.nextLong();
        ram.set(ValueLayout.JAVA_LONG, offset, value);
        tracker.markDirty(page);
    }

    /**
     * Gives a fresh guest's RAM the texture of a used one, so compression ratios are not those of zero
     * pages: per 64-byte block, about a third zeros, a third repeats of a few common blocks, a third random.
     * LZ4 compresses this about 2:1, in the range reported for real guest memory.
     */
    static void fillLikeUsedMemory(MemorySegment region, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[][] common = new long[16][8];
        for (long[] block : common) {
            for (int i = 0; i < block.length; i++) {
                block[i] = random.nextLong();
            }
        }
        for (long off = 0; off + 64 <= region.byteSize(); off += 64) {
            int kind = random.nextInt(3);
            if (kind == 0) {
                continue; // zeros: a fresh mapping reads as zero already
            }
            long[] block = kind == 1 ? common[random.nextInt(common.length)] : null;
            for (int i = 0; i < 8; i++) {
                region.set(ValueLayout.JAVA_LONG, off + i * 8L, block != null ? block[i] : random.nextLong());
            }
        }
    }
}
