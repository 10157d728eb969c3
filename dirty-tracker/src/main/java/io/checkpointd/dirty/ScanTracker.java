package io.checkpointd.dirty;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Finds written pages by comparing guest RAM with a shadow copy of it: exact on any kernel and for any
 * driver that can map the guest's RAM.
 *
 * <p>A page is reported when its content differs from what it held at the previous collect (or at
 * construction, for the first). A page written back to its old content is therefore not reported; the
 * checkpoint does not need it, since the backup already holds that content.
 *
 * <p>Cost, paid while the guest is paused: every {@link #collect()} reads all of RAM and all of the shadow
 * (twice the guest's RAM in memory traffic, whatever the dirty rate), plus one page copy per dirty page.
 * Unchanged stretches are compared by the JDK's vectorised {@link MemorySegment#mismatch}, whole runs per
 * call, so the time is close to that of one {@code mismatch} over the RAM: about 200 ms per GiB on one
 * thread, 120 ms on two, on this project's 2-core test machines (bench/README.md, "Scan tracker").
 * Memory: a second copy of guest RAM, off-heap. Guests of at least {@link #MIN_STRIPE_BYTES} per thread
 * are split into contiguous stripes scanned in parallel on a pool created once; smaller ones, or
 * {@code threads == 1}, are scanned on the calling thread.
 *
 * <p>Not thread-safe: the epoch loop owns it, like every tracker.
 */
public final class ScanTracker implements DirtyTracker {
    /**
     * Below this many bytes per stripe a stripe is not worth a hand-off to another thread (a hand-off costs
     * microseconds; a scan of 8 MiB about a millisecond).
     */
    static final long MIN_STRIPE_BYTES = 8L << 20;

    private final MemorySegment ram;
    private final long pageSizeBytes;
    private final long pageCount;
    private final Arena shadowArena = Arena.ofShared();
    private final MemorySegment shadow;
    private final long stripePages;
    private final int stripeCount;
    /** Scans stripes 1..n-1; the caller scans stripe 0. Null when scanning inline. */
    private final ExecutorService pool;
    private DirtyPageSet current;
    private DirtyPageSet spare;
    private boolean closed;

    /** A tracker scanning with one thread per available processor. */
    public ScanTracker(MemorySegment ram, int pageSizeBytes) {
        this(ram, pageSizeBytes, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Copies {@code ram} into a new shadow: the first {@link #collect()} reports pages changed from now.
     * Construct it while the guest is paused for the full first checkpoint, so the shadow is what the
     * backup got.
     *
     * @param ram the guest's RAM, a whole number of pages; with more than one thread it must be accessible
     *     from any thread (a global or shared arena's segment, as a mapped RAM file is)
     * @param pageSizeBytes the guest page size, {@code > 0}
     * @param threads how many threads may scan at once (the caller included), {@code >= 1}
     */
    public ScanTracker(MemorySegment ram, int pageSizeBytes, int threads) {
        if (pageSizeBytes <= 0) {
            throw new IllegalArgumentException("pageSizeBytes must be > 0: " + pageSizeBytes);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1: " + threads);
        }
        long ramBytes = ram.byteSize();
        if (ramBytes == 0 || ramBytes % pageSizeBytes != 0) {
            throw new IllegalArgumentException("RAM of " + ramBytes + " bytes is not a whole number of "
                    + pageSizeBytes + "-byte pages");
        }
        this.ram = ram;
        this.pageSizeBytes = pageSizeBytes;
        this.pageCount = ramBytes / pageSizeBytes;
        this.current = new DirtyPageSet(pageCount);
        this.spare = new DirtyPageSet(pageCount);

        int wanted = (int) Math.max(1, Math.min(threads, ramBytes / MIN_STRIPE_BYTES));
        // Stripes are whole words of the bitmap, so threads never write the same long: no atomics needed.
        long pagesPerStripe = (pageCount + wanted - 1) / wanted;
        this.stripePages = (pagesPerStripe + Long.SIZE - 1) / Long.SIZE * Long.SIZE;
        this.stripeCount = (int) ((pageCount + stripePages - 1) / stripePages);
        if (stripeCount > 1 && !ram.isAccessibleBy(Thread.ofPlatform().unstarted(() -> { }))) {
            throw new IllegalArgumentException("RAM segment is confined to one thread; a scan on " + stripeCount
                    + " threads needs a shared or global segment (or threads = 1)");
        }
        this.shadow = shadowArena.allocate(ramBytes, pageSizeBytes);
        MemorySegment.copy(ram, 0, shadow, 0, ramBytes);
        this.pool = stripeCount > 1 ? Executors.newFixedThreadPool(stripeCount - 1, daemonThreads()) : null;
    }

    @Override
    public String name() {
        return "scan";
    }

    /**
     * How many stripes a collect scans in parallel: 1 means inline on the caller. Public for the scan
     * benchmark in bench/, which checks that its thread count took effect.
     */
    public int stripeCount() {
        return stripeCount;
    }

    @Override
    public DirtyPageSet collect() {
        if (closed) {
            throw new IllegalStateException("scan tracker is closed");
        }
        DirtyPageSet result = spare;
        result.clear();
        if (pool == null) {
            scanStripe(0, pageCount, result);
        } else {
            scanInParallel(result);
        }
        spare = current;
        current = result;
        return result;
    }

    private void scanInParallel(DirtyPageSet result) {
        List<Future<?>> others = new ArrayList<>(stripeCount - 1);
        for (int s = 1; s < stripeCount; s++) {
            long from = s * stripePages;
            long to = Math.min(pageCount, from + stripePages);
            others.add(pool.submit(() -> scanStripe(from, to, result)));
        }
        scanStripe(0, Math.min(pageCount, stripePages), result);
        // Future.get orders the workers' bitmap and shadow writes before our return.
        boolean interrupted = false;
        try {
            for (Future<?> f : others) {
                while (true) {
                    try {
                        f.get();
                        break;
                    } catch (InterruptedException e) {
                        // A half-finished scan would miss pages; the rest takes milliseconds, so finish it.
                        interrupted = true;
                    }
                }
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("scan of a RAM stripe failed", e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Marks every page in {@code [fromPage, toPage)} whose content differs from the shadow and brings the
     * shadow up to date. Each mismatch call skips a whole unchanged stretch, not one page.
     */
    private void scanStripe(long fromPage, long toPage, DirtyPageSet result) {
        long offset = fromPage * pageSizeBytes;
        long endOffset = toPage * pageSizeBytes;
        while (offset < endOffset) {
            long firstDifference = MemorySegment.mismatch(ram, offset, endOffset, shadow, offset, endOffset);
            if (firstDifference < 0) {
                return;
            }
            long page = (offset + firstDifference) / pageSizeBytes;
            long pageOffset = page * pageSizeBytes;
            result.add(page);
            MemorySegment.copy(ram, pageOffset, shadow, pageOffset, pageSizeBytes);
            offset = pageOffset + pageSizeBytes;
        }
    }

    /** Stops the scan threads and frees the shadow. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (pool != null) {
            pool.shutdownNow();
        }
        shadowArena.close();
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger next = new AtomicInteger(1);
        // Daemon: a tracker someone forgot to close must not keep the JVM alive.
        return r -> Thread.ofPlatform().name("scan-tracker-" + next.getAndIncrement()).daemon(true).unstarted(r);
    }
}
