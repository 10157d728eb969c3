package io.checkpointd.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Guest RAM for benchmarks: anonymous memory, every page written with non-zero data so that each one is
 * backed by its own physical page before the first measurement (none is the kernel's shared zero page).
 *
 * <p>The sim guest maps a file instead. Copying out of resident page-cache pages costs the same as out of
 * anonymous ones (both are 4 KiB pages here: transparent huge pages are {@code madvise} only), but a file
 * on this machine's disk would add the kernel's write-back of every dirtied page to the measurement.
 */
public final class GuestRam {
    public static final int PAGE_SIZE_BYTES = 4096;
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private GuestRam() {
    }

    /** {@code ramBytes} of memory from {@code arena}, page aligned, no 8-byte word zero. */
    public static MemorySegment allocate(Arena arena, long ramBytes) {
        MemorySegment ram = arena.allocate(ramBytes, PAGE_SIZE_BYTES);
        for (long offset = 0; offset < ramBytes; offset += Long.BYTES) {
            ram.set(ValueLayout.JAVA_LONG, offset, (offset + Long.BYTES) * GOLDEN_GAMMA);
        }
        return ram;
    }

    /**
     * The page numbers {@code 0 .. pageCount-1} in a random order. Any window of up to {@code pageCount}
     * consecutive entries (wrapping around) is a set of distinct random pages.
     */
    public static int[] shuffledPages(int pageCount, long seed) {
        int[] pages = new int[pageCount];
        for (int i = 0; i < pageCount; i++) {
            pages[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = pageCount - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = pages[i];
            pages[i] = pages[j];
            pages[j] = t;
        }
        return pages;
    }
}
