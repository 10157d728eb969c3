package io.checkpointd.dirty;

import java.util.BitSet;

/** Conversions between {@link DirtyPageSet} and {@link BitSet} for assertions. */
final class Pages {
    private Pages() {
    }

    /** A copy of {@code set}: trackers reuse the sets they return. */
    static BitSet toBitSet(DirtyPageSet set) {
        BitSet bits = new BitSet();
        for (long p = set.nextPage(0); p >= 0; p = set.nextPage(p + 1)) {
            bits.set(Math.toIntExact(p));
        }
        return bits;
    }

    static BitSet of(int... pages) {
        BitSet bits = new BitSet();
        for (int p : pages) {
            bits.set(p);
        }
        return bits;
    }
}
