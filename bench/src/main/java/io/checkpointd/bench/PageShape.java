package io.checkpointd.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * What the contents of a dirty guest page look like, for benchmarks whose cost depends on the data
 * (compression). Real guest RAM is mostly zero pages, page cache (text, code), heaps full of pointers and
 * small integers, and some data that is already compressed or encrypted; the shapes span that range.
 */
public enum PageShape {
    /**
     * The sim guest's pages: zeros, with 1 to 64 of the 512 words holding a small counter, because its
     * workload increments random words of the pages it dirties.
     */
    ZERO_MOSTLY {
        @Override
        void fillPage(MemorySegment page, SplittableRandom random) {
            page.fill((byte) 0);
            int counters = 1 + random.nextInt(64);
            for (int i = 0; i < counters; i++) {
                page.set(ValueLayout.JAVA_LONG, random.nextInt(WORDS) * (long) Long.BYTES, 1 + random.nextInt(1000));
            }
        }
    },
    /**
     * An object heap, word by word: 35% pointers into one 256 MiB region (the same high bytes, 8-byte
     * aligned), 25% small integers, 15% a constant header word, 25% zero.
     */
    HEAP {
        private static final long HEAP_BASE = 0x0000_7f3a_4000_0000L;
        private static final long HEADER_WORD = 0x0000_0000_0000_0001L;

        @Override
        void fillPage(MemorySegment page, SplittableRandom random) {
            for (int i = 0; i < WORDS; i++) {
                int kind = random.nextInt(100);
                long word;
                if (kind < 35) {
                    word = HEAP_BASE + ((long) random.nextInt(1 << 25) << 3);
                } else if (kind < 60) {
                    word = random.nextInt(1 << 16);
                } else if (kind < 75) {
                    word = HEADER_WORD;
                } else {
                    word = 0;
                }
                page.set(ValueLayout.JAVA_LONG, (long) i * Long.BYTES, word);
            }
        }
    },
    /** About half the 64-byte blocks random, a quarter zero, a quarter repeating an earlier block of the page. */
    MIXED {
        @Override
        void fillPage(MemorySegment page, SplittableRandom random) {
            for (int block = 0; block < BLOCKS; block++) {
                long offset = (long) block * BLOCK_BYTES;
                int kind = random.nextInt(4);
                if (kind < 2) {
                    fillRandom(page.asSlice(offset, BLOCK_BYTES), random);
                } else if (kind == 2 || block == 0) {
                    page.asSlice(offset, BLOCK_BYTES).fill((byte) 0);
                } else {
                    MemorySegment.copy(page, (long) random.nextInt(block) * BLOCK_BYTES, page, offset, BLOCK_BYTES);
                }
            }
        }
    },
    /** Random bytes: compressed or encrypted data. LZ4 cannot shrink it, so the sender falls back to RAW. */
    RANDOM {
        @Override
        void fillPage(MemorySegment page, SplittableRandom random) {
            fillRandom(page, random);
        }
    };

    private static final int WORDS = GuestRam.PAGE_SIZE_BYTES / Long.BYTES;
    private static final int BLOCK_BYTES = 64;
    private static final int BLOCKS = GuestRam.PAGE_SIZE_BYTES / BLOCK_BYTES;

    /** Overwrites every page of {@code pages} (a whole number of pages) with this shape, reproducibly for a seed. */
    public void fill(MemorySegment pages, long seed) {
        if (pages.byteSize() % GuestRam.PAGE_SIZE_BYTES != 0) {
            throw new IllegalArgumentException(pages.byteSize() + " bytes is not a whole number of pages");
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < pages.byteSize(); offset += GuestRam.PAGE_SIZE_BYTES) {
            fillPage(pages.asSlice(offset, GuestRam.PAGE_SIZE_BYTES), random);
        }
    }

    abstract void fillPage(MemorySegment page, SplittableRandom random);

    private static void fillRandom(MemorySegment bytes, SplittableRandom random) {
        for (long offset = 0; offset < bytes.byteSize(); offset += Long.BYTES) {
            bytes.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
        }
    }
}
