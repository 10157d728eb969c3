package io.checkpointd.dirty;

/**
 * An estimate of the guest's writable working set from the last {@code windowEpochs} dirty sets: the
 * pages dirtied in <em>every</em> one of them (the hot set, rewritten each epoch, so pre-copying them
 * ahead of a pause is wasted work) and in <em>any</em> of them (everything the guest touched lately).
 * Until the window is full, both are over the epochs recorded so far.
 *
 * <p>Cost: a ring of {@code windowEpochs} bitmaps, {@code windowEpochs × pageCount / 8} bytes (8 epochs of
 * a 1 GiB guest in 4 KiB pages: 256 KiB). Each {@link #record} copies one bitmap and recomputes both
 * counts in one pass of AND/OR and popcount over all words of the window: {@code windowEpochs × pageCount
 * / 64} word operations (8 × 4096 for that guest, some microseconds), whatever the dirty rate. Queries
 * are free.
 *
 * <p>Not thread-safe: the epoch loop owns it. {@link #record} copies its argument, so it may run after
 * the guest resumes, while the collected set is still the loop's.
 */
public final class WorkingSet {
    private final long pageCount;
    private final DirtyPageSet[] ring;
    /** The slot the next epoch goes to; until the ring is full, slots {@code [0, epochsInWindow)} are used. */
    private int nextSlot;
    private int epochsInWindow;
    private long pagesInEveryEpoch;
    private long pagesInAnyEpoch;

    public WorkingSet(long pageCount, int windowEpochs) {
        if (windowEpochs < 1) {
            throw new IllegalArgumentException("windowEpochs must be >= 1: " + windowEpochs);
        }
        this.pageCount = pageCount;
        this.ring = new DirtyPageSet[windowEpochs];
        for (int i = 0; i < windowEpochs; i++) {
            ring[i] = new DirtyPageSet(pageCount);
        }
    }

    /** Adds the latest epoch's dirty set (same page count), dropping the oldest once the window is full. */
    public void record(DirtyPageSet dirty) {
        if (dirty.pageCount() != pageCount) {
            throw new IllegalArgumentException("page counts differ: " + pageCount + " vs " + dirty.pageCount());
        }
        DirtyPageSet slot = ring[nextSlot];
        slot.clear();
        slot.addAll(dirty);
        nextSlot = (nextSlot + 1) % ring.length;
        epochsInWindow = Math.min(epochsInWindow + 1, ring.length);
        recount();
    }

    private void recount() {
        int wordCount = ring[0].words().length;
        long every = 0;
        long any = 0;
        for (int i = 0; i < wordCount; i++) {
            long and = -1L;
            long or = 0;
            for (int e = 0; e < epochsInWindow; e++) {
                long w = ring[e].words()[i];
                and &= w;
                or |= w;
            }
            // Bits past pageCount are clear in every set, so the AND cannot count them.
            every += Long.bitCount(and);
            any += Long.bitCount(or);
        }
        pagesInEveryEpoch = every;
        pagesInAnyEpoch = any;
    }

    /** The window length given at construction. */
    public int windowEpochs() {
        return ring.length;
    }

    /** Epochs the counts cover: those recorded, up to {@link #windowEpochs()}. */
    public int epochsInWindow() {
        return epochsInWindow;
    }

    /** Pages dirtied in every epoch of the window (their intersection); 0 before the first epoch. */
    public long pagesInEveryEpoch() {
        return pagesInEveryEpoch;
    }

    /** Pages dirtied in at least one epoch of the window (their union); 0 before the first epoch. */
    public long pagesInAnyEpoch() {
        return pagesInAnyEpoch;
    }

    /** Forgets every recorded epoch. */
    public void reset() {
        nextSlot = 0;
        epochsInWindow = 0;
        pagesInEveryEpoch = 0;
        pagesInAnyEpoch = 0;
    }
}
