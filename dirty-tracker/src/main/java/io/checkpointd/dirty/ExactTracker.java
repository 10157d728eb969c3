package io.checkpointd.dirty;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The tracker of a guest that reports its own writes (the {@code sim} driver): every write calls
 * {@link #markDirty(long)}. Marking is lock-free and safe from many guest threads at once.
 *
 * <p>Double-buffered: {@link #collect()} returns the set guest threads were marking and hands them a
 * cleared one. That swap is only safe because collect runs while the guest is paused, so no marking
 * thread is between reading {@code current} and setting its bit; the pause provides the happens-before.
 */
public final class ExactTracker implements DirtyTracker {
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long pageCount;
    private volatile DirtyPageSet current;
    private DirtyPageSet spare;

    public ExactTracker(long pageCount) {
        this.pageCount = pageCount;
        this.current = new DirtyPageSet(pageCount);
        this.spare = new DirtyPageSet(pageCount);
    }

    @Override
    public String name() {
        return "exact";
    }

    /** Records that the guest wrote {@code page}. Called by guest threads. */
    public void markDirty(long page) {
        if (page < 0 || page >= pageCount) {
            throw new IndexOutOfBoundsException("page " + page + " outside [0, " + pageCount + ")");
        }
        long bit = 1L << page;
        long[] words = current.words();
        int i = (int) (page >>> 6);
        // Test before setting: hot pages are written many times per epoch and are usually marked already,
        // and an opaque read is far cheaper than an atomic read-modify-write on a shared cache line.
        if (((long) WORDS.getOpaque(words, i) & bit) == 0) {
            WORDS.getAndBitwiseOr(words, i, bit);
        }
    }

    @Override
    public DirtyPageSet collect() {
        DirtyPageSet collected = current;
        spare.clear();
        current = spare;
        spare = collected;
        return collected;
    }
}
