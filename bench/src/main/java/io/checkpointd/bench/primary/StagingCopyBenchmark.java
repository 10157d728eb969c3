package io.checkpointd.bench.primary;

import io.checkpointd.bench.GuestRam;
import io.checkpointd.bench.PageBytes;
import io.checkpointd.dirty.DirtyPageSet;
import io.checkpointd.primary.Staging;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * The copy the epoch loop makes while the guest is paused, {@link Staging#copyFrom}, against the floor
 * for the same number of bytes: one plain {@link MemorySegment#copy} call. The {@code pageMB} row of each
 * is MB/s of guest pages; their ratio is how close staging gets to memcpy speed.
 *
 * <p>{@code CONTIGUOUS} dirties one run of pages (staging makes a single copy); {@code RANDOM} dirties
 * pages spread over the whole RAM (staging copies run by run, and most runs are one or two pages long).
 * The dirty set is the same for every invocation, so at 256 pages (1 MiB) source and destination stay in
 * cache for both benchmarks, and at 32768 pages (128 MiB) neither does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class StagingCopyBenchmark {
    private static final long RAM_BYTES = 256L << 20;
    private static final int PAGE = GuestRam.PAGE_SIZE_BYTES;

    public enum DirtyPattern { CONTIGUOUS, RANDOM }

    @Param({"256", "4096", "32768"})
    int dirtyPages;

    @Param({"CONTIGUOUS", "RANDOM"})
    DirtyPattern pattern;

    private Arena arena;
    private MemorySegment ram;
    private DirtyPageSet dirty;
    private Staging staging;
    private MemorySegment plainTarget;
    private long copyBytes;
    private double copyMB;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        ram = GuestRam.allocate(arena, RAM_BYTES);
        int pageCount = Math.toIntExact(RAM_BYTES / PAGE);
        dirty = new DirtyPageSet(pageCount);
        switch (pattern) {
            case CONTIGUOUS -> dirty.addRange(0, dirtyPages);
            case RANDOM -> {
                int[] order = GuestRam.shuffledPages(pageCount, 42);
                for (int i = 0; i < dirtyPages; i++) {
                    dirty.add(order[i]);
                }
            }
        }
        copyBytes = (long) dirtyPages * PAGE;
        copyMB = copyBytes / 1e6;
        staging = new Staging(PAGE);
        staging.copyFrom(ram, dirty); // grows the buffer now, as after the first checkpoint of this size
        if (staging.pageCount() != dirtyPages) {
            throw new IllegalStateException("staged " + staging.pageCount() + " pages, expected " + dirtyPages);
        }
        plainTarget = arena.allocate(copyBytes, PAGE);
        plainTarget.fill((byte) 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        staging.close();
        arena.close();
    }

    /** The paused section's copy: walk the dirty bitmap, one copy per run of pages, record page numbers. */
    @Benchmark
    public Staging stagingCopy(PageBytes bytes) {
        staging.copyFrom(ram, dirty);
        bytes.pageMB += copyMB;
        return staging;
    }

    /** The floor: the same number of bytes in one copy, from the start of RAM. */
    @Benchmark
    public MemorySegment plainCopy(PageBytes bytes) {
        MemorySegment.copy(ram, 0, plainTarget, 0, copyBytes);
        bytes.pageMB += copyMB;
        return plainTarget;
    }
}
