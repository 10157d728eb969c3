package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;

class ExactTrackerTest {

    private static BitSet toBitSet(DirtyPageSet set) {
        BitSet bits = new BitSet();
        for (long p = set.nextPage(0); p >= 0; p = set.nextPage(p + 1)) {
            bits.set(Math.toIntExact(p));
        }
        return bits;
    }

    @Test
    void concurrentMarksAreAllCollected() throws InterruptedException {
        int threads = 8;
        long pageCount = 10_000; // not a multiple of 64
        ExactTracker tracker = new ExactTracker(pageCount);
        BitSet[] marked = new BitSet[threads];
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            // Thread t owns the pages p with p % threads == t: every word is written by all threads at once,
            // so a lost update of a shared word would lose a page nobody else marks.
            BitSet mine = new BitSet();
            Random random = new Random(t);
            for (int p = t; p < pageCount; p += threads) {
                if (random.nextBoolean()) {
                    mine.set(p);
                }
            }
            marked[t] = mine;
            int[] pages = mine.stream().toArray();
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                for (int repeat = 0; repeat < 3; repeat++) {
                    for (int p : pages) {
                        tracker.markDirty(p);
                    }
                }
            }));
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }

        BitSet union = new BitSet();
        for (BitSet m : marked) {
            union.or(m);
        }
        DirtyPageSet collected = tracker.collect();
        assertThat(collected.pageCount()).isEqualTo(pageCount);
        assertThat(toBitSet(collected)).isEqualTo(union);
        assertThat(collected.count()).isEqualTo(union.cardinality());
    }

    @Test
    void eachCollectReturnsOnlyPagesMarkedSinceThePrevious() {
        ExactTracker tracker = new ExactTracker(200);
        tracker.markDirty(0);
        tracker.markDirty(64);
        tracker.markDirty(199);
        // The tracker may reuse a collected set at the collect after next, so copy it now.
        BitSet first = toBitSet(tracker.collect());

        tracker.markDirty(1);
        tracker.markDirty(64);
        BitSet second = toBitSet(tracker.collect());

        BitSet third = toBitSet(tracker.collect());
        tracker.markDirty(63);
        BitSet fourth = toBitSet(tracker.collect());

        assertThat(first.stream()).containsExactly(0, 64, 199);
        assertThat(second.stream()).containsExactly(1, 64);
        assertThat(third.isEmpty()).isTrue();
        assertThat(fourth.stream()).as("a reused set starts clear").containsExactly(63);
    }

    @Test
    void aPageMarkedTwiceCountsOnce() {
        ExactTracker tracker = new ExactTracker(64);
        tracker.markDirty(5);
        tracker.markDirty(5);
        assertThat(tracker.collect().count()).isOne();
    }

    @Test
    void rejectsPagesOutsideTheGuest() {
        ExactTracker tracker = new ExactTracker(100);
        assertThatThrownBy(() -> tracker.markDirty(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> tracker.markDirty(100)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> tracker.markDirty(Long.MAX_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(tracker.collect().isEmpty()).isTrue();
    }

    @Test
    void isNamedExact() {
        try (ExactTracker tracker = new ExactTracker(1)) {
            assertThat(tracker.name()).isEqualTo("exact");
        }
    }
}
