package io.checkpointd.bench.dirty;

import io.checkpointd.bench.GuestRam;
import io.checkpointd.bench.PageBytes;
import io.checkpointd.dirty.DirtyPageSet;
import io.checkpointd.dirty.ScanTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link ScanTracker#collect()} on a 256 MiB guest against two floors over the same bytes: one
 * {@link MemorySegment#copy} of the whole RAM and one {@link MemorySegment#mismatch} of the RAM against an
 * equal copy (what a scan of an unchanged guest must at least do). The {@code pageMB} row is MB/s of guest
 * RAM covered, whatever the dirty count: a scan reads all of it every time.
 *
 * <p>Before every scan the benchmark dirties {@code dirtyPages} distinct pages spread over the guest
 * (consecutive windows of one shuffled order) by inverting one word in each, so every one really
 * changed. That happens outside the measured time in {@code @Setup(Level.Invocation)}: a scan takes tens
 * of milliseconds, far above the microsecond scale where JMH warns about that level. The same setup checks
 * that the previous scan found exactly the pages dirtied before it.
 *
 * <p>Only the parameters of the states a method uses are crossed, so the two floors run once each.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ScanBenchmark {
    private static final long RAM_BYTES = 256L << 20;
    private static final int PAGE = GuestRam.PAGE_SIZE_BYTES;
    private static final double RAM_MB = RAM_BYTES / 1e6;

    /** A guest with its scan tracker, dirtied before each scan. */
    @State(Scope.Thread)
    public static class Guest {
        @Param({"0", "1000", "16384"})
        int dirtyPages;

        @Param({"1", "2"})
        int threads;

        private Arena arena;
        private MemorySegment ram;
        private ScanTracker tracker;
        private int[] pageOrder;
        private int nextInOrder;
        /** What the last scan returned; checked at the next invocation's setup, outside the measurement. */
        DirtyPageSet lastScan;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            ram = GuestRam.allocate(arena, RAM_BYTES);
            tracker = new ScanTracker(ram, PAGE, threads);
            if (tracker.stripeCount() != threads) {
                throw new IllegalStateException("scan uses " + tracker.stripeCount() + " stripes, expected " + threads);
            }
            pageOrder = GuestRam.shuffledPages(Math.toIntExact(RAM_BYTES / PAGE), 11);
        }

        @Setup(Level.Invocation)
        public void dirty() {
            if (lastScan != null && lastScan.count() != dirtyPages) {
                throw new IllegalStateException("scan found " + lastScan.count() + " pages, " + dirtyPages + " were written");
            }
            for (int i = 0; i < dirtyPages; i++) {
                long page = pageOrder[nextInOrder];
                nextInOrder = (nextInOrder + 1) % pageOrder.length;
                // Inverting a word always changes it from what the previous scan copied into the shadow.
                long offset = page * PAGE + Long.BYTES;
                ram.set(ValueLayout.JAVA_LONG, offset, ~ram.get(ValueLayout.JAVA_LONG, offset));
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            tracker.close();
            arena.close();
        }
    }

    /** A guest and an equal copy of it, for the floors. */
    @State(Scope.Thread)
    public static class Twin {
        private Arena arena;
        private MemorySegment ram;
        private MemorySegment twin;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            ram = GuestRam.allocate(arena, RAM_BYTES);
            twin = arena.allocate(RAM_BYTES, PAGE);
            MemorySegment.copy(ram, 0, twin, 0, RAM_BYTES);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** One collect: compare all of RAM with the shadow, copy the dirty pages into it. */
    @Benchmark
    public DirtyPageSet scan(Guest guest, PageBytes bytes) {
        DirtyPageSet dirty = guest.tracker.collect();
        guest.lastScan = dirty;
        bytes.pageMB += RAM_MB;
        return dirty;
    }

    /** Floor: one copy of the whole RAM (reads it once, writes as much). */
    @Benchmark
    public MemorySegment plainCopy(Twin twin, PageBytes bytes) {
        MemorySegment.copy(twin.ram, 0, twin.twin, 0, RAM_BYTES);
        bytes.pageMB += RAM_MB;
        return twin.twin;
    }

    /** Floor: one mismatch of the whole RAM against an equal copy (reads twice the RAM, as a scan does). */
    @Benchmark
    public long plainMismatch(Twin twin, PageBytes bytes) {
        long at = MemorySegment.mismatch(twin.ram, 0, RAM_BYTES, twin.twin, 0, RAM_BYTES);
        if (at != -1) {
            throw new IllegalStateException("twins differ at byte " + at);
        }
        bytes.pageMB += RAM_MB;
        return at;
    }
}
