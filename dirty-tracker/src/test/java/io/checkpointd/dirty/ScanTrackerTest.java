package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ScanTrackerTest {
    private static final int PAGE = 4096;

    private final Arena arena = Arena.ofShared();
    private final Random random = new Random(20240611);

    @AfterEach
    void freeRam() {
        arena.close();
    }

    /** RAM of random content, so a write changing one byte is the only difference anywhere. */
    private MemorySegment ram(long bytes) {
        MemorySegment ram = arena.allocate(bytes, PAGE);
        byte[] chunk = new byte[1 << 16];
        for (long offset = 0; offset < bytes; offset += chunk.length) {
            random.nextBytes(chunk);
            int length = (int) Math.min(chunk.length, bytes - offset);
            MemorySegment.copy(chunk, 0, ram, ValueLayout.JAVA_BYTE, offset, length);
        }
        return ram;
    }

    /** Changes one byte of {@code page} at a random offset to a different value. */
    private void write(MemorySegment ram, int pageSize, long page) {
        write(ram, page * pageSize + random.nextInt(pageSize));
    }

    private void write(MemorySegment ram, long offset) {
        byte old = ram.get(ValueLayout.JAVA_BYTE, offset);
        ram.set(ValueLayout.JAVA_BYTE, offset, (byte) (old ^ (1 + random.nextInt(255))));
    }

    @ParameterizedTest(name = "page {0} B, {1} threads, {2} pages")
    @CsvSource({"4096, 1, 1000", "4096, 2, 3000", "8192, 1, 517", "65536, 1, 100", "4096, 4, 4096"})
    void reportsExactlyTheWrittenPages(int pageSize, int threads, int pageCount) {
        MemorySegment ram = ram((long) pageSize * pageCount);
        try (ScanTracker tracker = new ScanTracker(ram, pageSize, threads)) {
            for (int round = 0; round < 10; round++) {
                double density = random.nextDouble() * 0.3;
                BitSet expected = new BitSet();
                for (int p = 0; p < pageCount; p++) {
                    if (random.nextDouble() < density) {
                        expected.set(p);
                        write(ram, pageSize, p);
                    }
                }
                assertThat(Pages.toBitSet(tracker.collect())).as("round %d", round).isEqualTo(expected);
            }
        }
    }

    @Test
    void firstCollectReportsChangesSinceConstruction() {
        MemorySegment ram = ram(64L * PAGE);
        write(ram, PAGE, 3);
        try (ScanTracker tracker = new ScanTracker(ram, PAGE, 1)) {
            write(ram, PAGE, 7);
            assertThat(Pages.toBitSet(tracker.collect())).isEqualTo(Pages.of(7));
            assertThat(tracker.collect().isEmpty()).as("the shadow caught up").isTrue();
        }
    }

    @Test
    void firstLastAndNeighbouringPages() {
        int pageCount = 130;
        MemorySegment ram = ram((long) pageCount * PAGE);
        try (ScanTracker tracker = new ScanTracker(ram, PAGE, 1)) {
            for (int p : new int[] {0, 63, 64, 65, 129}) {
                write(ram, PAGE, p);
            }
            assertThat(Pages.toBitSet(tracker.collect())).isEqualTo(Pages.of(0, 63, 64, 65, 129));
        }
    }

    @Test
    void lastByteOfOnePageAndFirstByteOfTheNext() {
        MemorySegment ram = ram(16L * PAGE);
        try (ScanTracker tracker = new ScanTracker(ram, PAGE, 1)) {
            write(ram, 6L * PAGE - 1);
            write(ram, 6L * PAGE);
            write(ram, 16L * PAGE - 1);
            assertThat(Pages.toBitSet(tracker.collect())).isEqualTo(Pages.of(5, 6, 15));
        }
    }

    @Test
    void aPageWrittenTwiceIsReportedOnce() {
        MemorySegment ram = ram(8L * PAGE);
        try (ScanTracker tracker = new ScanTracker(ram, PAGE, 1)) {
            write(ram, 2L * PAGE + 10);
            write(ram, 2L * PAGE + 4000);
            DirtyPageSet dirty = tracker.collect();
            assertThat(dirty.count()).isOne();
            assertThat(dirty.contains(2)).isTrue();
        }
    }

    @Test
    void aPageWrittenBackToItsOldContentIsNotReported() {
        MemorySegment ram = ram(8L * PAGE);
        try (ScanTracker tracker = new ScanTracker(ram, PAGE, 1)) {
            long offset = 4L * PAGE + 123;
            byte old = ram.get(ValueLayout.JAVA_BYTE, offset);
            ram.set(ValueLayout.JAVA_BYTE, offset, (byte) (old + 1));
            ram.set(ValueLayout.JAVA_BYTE, offset, old);
            write(ram, PAGE, 5);
            assertThat(Pages.toBitSet(tracker.collect())).isEqualTo(Pages.of(5));
        }
    }

    @Test
    void aReturnedSetStaysIntactUntilTheNextCollect() {
        MemorySegment ram = ram(8L * PAGE);
        try (ScanTracker tracker = new ScanTracker(ram, PAGE, 1)) {
            write(ram, PAGE, 1);
            DirtyPageSet first = tracker.collect();
            write(ram, PAGE, 2);
            DirtyPageSet second = tracker.collect();
            assertThat(Pages.toBitSet(first)).isEqualTo(Pages.of(1));
            assertThat(Pages.toBitSet(second)).isEqualTo(Pages.of(2));
            write(ram, PAGE, 3);
            assertThat(Pages.toBitSet(tracker.collect())).as("a reused set starts clear").isEqualTo(Pages.of(3));
        }
    }

    @Test
    void aMultiThreadedScanEqualsASingleThreadedOne() {
        long ramBytes = 64L << 20;
        int pageCount = (int) (ramBytes / PAGE);
        MemorySegment ram = ram(ramBytes);
        try (ScanTracker single = new ScanTracker(ram, PAGE, 1);
                ScanTracker two = new ScanTracker(ram, PAGE, 2);
                ScanTracker four = new ScanTracker(ram, PAGE, 4)) {
            assertThat(single.stripeCount()).isOne();
            assertThat(two.stripeCount()).isEqualTo(2);
            assertThat(four.stripeCount()).isEqualTo(4);
            for (int round = 0; round < 4; round++) {
                BitSet expected = new BitSet();
                // Both sides of every stripe boundary, whatever the stripe count, and random pages between.
                for (int boundary = 0; boundary <= pageCount; boundary += pageCount / 4) {
                    for (int p : new int[] {boundary - 1, boundary}) {
                        if (p >= 0 && p < pageCount && random.nextBoolean()) {
                            expected.set(p);
                        }
                    }
                }
                for (int i = 0; i < 2000; i++) {
                    expected.set(random.nextInt(pageCount));
                }
                expected.stream().forEach(p -> write(ram, PAGE, p));

                BitSet fromSingle = Pages.toBitSet(single.collect());
                BitSet fromTwo = Pages.toBitSet(two.collect());
                BitSet fromFour = Pages.toBitSet(four.collect());
                assertThat(fromSingle).isEqualTo(expected);
                assertThat(fromTwo).isEqualTo(fromSingle);
                assertThat(fromFour).isEqualTo(fromSingle);
            }
        }
    }

    @Test
    void smallGuestsAreScannedInline() {
        try (ScanTracker tracker = new ScanTracker(ram(ScanTracker.MIN_STRIPE_BYTES), PAGE, 8)) {
            assertThat(tracker.stripeCount()).isOne();
        }
    }

    @Test
    void rejectsBadGeometry() {
        MemorySegment ram = ram(10L * PAGE);
        assertThatThrownBy(() -> new ScanTracker(ram, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScanTracker(ram, PAGE, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScanTracker(ram.asSlice(0, PAGE + 1), PAGE, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number");
        assertThatThrownBy(() -> new ScanTracker(ram.asSlice(0, 0), PAGE, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aConfinedSegmentCannotBeScannedOnSeveralThreads() {
        try (Arena confined = Arena.ofConfined()) {
            MemorySegment ram = confined.allocate(2 * ScanTracker.MIN_STRIPE_BYTES, PAGE);
            assertThatThrownBy(() -> new ScanTracker(ram, PAGE, 2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("confined");
            try (ScanTracker inline = new ScanTracker(ram, PAGE, 1)) {
                ram.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
                assertThat(Pages.toBitSet(inline.collect())).isEqualTo(Pages.of(0));
            }
        }
    }

    @Test
    void closeFreesTheShadowAndStopsCollecting() {
        ScanTracker tracker = new ScanTracker(ram(2 * ScanTracker.MIN_STRIPE_BYTES), PAGE, 2);
        assertThat(tracker.name()).isEqualTo("scan");
        tracker.close();
        tracker.close();
        assertThatThrownBy(tracker::collect).isInstanceOf(IllegalStateException.class);
    }
}
