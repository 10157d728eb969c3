package io.checkpointd.dirty;

import java.util.Arrays;

/**
 * A set of page numbers of one guest, as a bitmap: bit {@code p} set means page {@code p} was written.
 *
 * <p>Not thread-safe. A tracker fills one while the guest runs and hands it out from
 * {@link DirtyTracker#collect()} while the guest is paused; the reader owns it until the next collect.
 */
public final class DirtyPageSet {
    private final long pageCount;
    private final long[] words;

    public DirtyPageSet(long pageCount) {
        if (pageCount <= 0 || pageCount > (long) Integer.MAX_VALUE * Long.SIZE) {
            throw new IllegalArgumentException("pageCount out of range: " + pageCount);
        }
        this.pageCount = pageCount;
        this.words = new long[(int) ((pageCount + Long.SIZE - 1) / Long.SIZE)];
    }

    /** A set holding every page: what the first, full checkpoint sends. */
    public static DirtyPageSet all(long pageCount) {
        DirtyPageSet set = new DirtyPageSet(pageCount);
        set.addRange(0, pageCount);
        return set;
    }

    public long pageCount() {
        return pageCount;
    }

    public void add(long page) {
        checkPage(page);
        words[(int) (page >>> 6)] |= 1L << page;
    }

    /** Adds pages {@code [fromPage, toPage)}, a word at a time. */
    public void addRange(long fromPage, long toPage) {
        if (fromPage < 0 || toPage > pageCount || fromPage > toPage) {
            throw new IndexOutOfBoundsException("range [" + fromPage + ", " + toPage + ") outside [0, " + pageCount + ")");
        }
        long p = fromPage;
        while (p < toPage) {
            int word = (int) (p >>> 6);
            int bitsHere = (int) Math.min(Long.SIZE - (p & 63), toPage - p);
            long mask = bitsHere == Long.SIZE ? -1L : ((1L << bitsHere) - 1) << p;
            words[word] |= mask;
            p += bitsHere;
        }
    }

    public boolean contains(long page) {
        checkPage(page);
        return (words[(int) (page >>> 6)] & (1L << page)) != 0;
    }

    public long count() {
        long n = 0;
        for (long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }

    public boolean isEmpty() {
        for (long w : words) {
            if (w != 0) {
                return false;
            }
        }
        return true;
    }

    /** The first page {@code >= fromPage} in the set, or -1. */
    public long nextPage(long fromPage) {
        if (fromPage < 0) {
            throw new IndexOutOfBoundsException("negative page " + fromPage);
        }
        if (fromPage >= pageCount) {
            return -1;
        }
        int i = (int) (fromPage >>> 6);
        long w = words[i] & (-1L << fromPage);
        while (true) {
            if (w != 0) {
                long p = (long) i * Long.SIZE + Long.numberOfTrailingZeros(w);
                return p < pageCount ? p : -1;
            }
            if (++i == words.length) {
                return -1;
            }
            w = words[i];
        }
    }

    /** The first page {@code >= fromPage} not in the set, or {@link #pageCount()}. */
    public long nextClearPage(long fromPage) {
        if (fromPage < 0) {
            throw new IndexOutOfBoundsException("negative page " + fromPage);
        }
        if (fromPage >= pageCount) {
            return pageCount;
        }
        int i = (int) (fromPage >>> 6);
        long w = ~words[i] & (-1L << fromPage);
        while (true) {
            if (w != 0) {
                return Math.min(pageCount, (long) i * Long.SIZE + Long.numberOfTrailingZeros(w));
            }
            if (++i == words.length) {
                return pageCount;
            }
            w = ~words[i];
        }
    }

    /** Calls {@code consumer} once per maximal run of consecutive pages, in ascending order. */
    public void forEachRun(RunConsumer consumer) {
        long start = nextPage(0);
        while (start >= 0) {
            long end = nextClearPage(start);
            consumer.accept(start, end - start);
            start = nextPage(end);
        }
    }

    /** Adds every page of {@code other} to this set (same page count). */
    public void addAll(DirtyPageSet other) {
        if (other.pageCount != pageCount) {
            throw new IllegalArgumentException("page counts differ: " + pageCount + " vs " + other.pageCount);
        }
        for (int i = 0; i < words.length; i++) {
            words[i] |= other.words[i];
        }
    }

    public void clear() {
        Arrays.fill(words, 0L);
    }

    /** The backing words, for trackers that set bits atomically. Word {@code i} covers pages {@code 64i..64i+63}. */
    long[] words() {
        return words;
    }

    private void checkPage(long page) {
        if (page < 0 || page >= pageCount) {
            throw new IndexOutOfBoundsException("page " + page + " outside [0, " + pageCount + ")");
        }
    }

    /** Receives a run of {@code length} consecutive pages starting at {@code firstPage}. */
    @FunctionalInterface
    public interface RunConsumer {
        void accept(long firstPage, long length);
    }
}
