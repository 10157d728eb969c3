package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tracker's mechanics against a fake {@code /proc/PID} (this machine's kernel has no soft-dirty, so
 * the real files would never show a set bit); {@link SoftDirtySupportTest} covers the real kernel.
 */
class SoftDirtyTrackerTest {
    /** Where a QEMU process maps a 128 MiB pc.ram (see qemu-system-x86_64.maps). */
    private static final long RAM_START = 0x7f1b57e00000L;
    private static final int KERNEL_PAGE = PagemapDecoder.KERNEL_PAGE_BYTES;

    @TempDir
    Path tempDir;
    private FakeProcDir proc;
    private final Random random = new Random(55);

    @BeforeEach
    void fakeProc() throws IOException {
        // The fixture bytes are x86-64's; the tracker reads pagemap in native order.
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
        proc = new FakeProcDir(tempDir);
    }

    @AfterEach
    void closeProc() throws IOException {
        if (proc != null) {
            proc.close();
        }
    }

    private SoftDirtyTracker tracker(long pageCount, int pageSize) throws IOException {
        SoftDirtyTracker tracker = new SoftDirtyTracker(proc.dir(), RAM_START, pageCount * pageSize, pageSize);
        proc.applyClearRefs(); // the constructor arms the tracker
        return tracker;
    }

    /** Marks a random 4 KiB part of guest page {@code page} soft-dirty. */
    private void write(long page, int pageSize) throws IOException {
        proc.write(RAM_START + page * pageSize + (long) random.nextInt(pageSize / KERNEL_PAGE) * KERNEL_PAGE);
    }

    @ParameterizedTest(name = "guest pages of {0} bytes")
    @ValueSource(ints = {4096, 8192, 16384, 2 << 20})
    void reportsExactlyTheWrittenPages(int pageSize) throws IOException {
        int pageCount = pageSize >= (2 << 20) ? 40 : 300;
        // Entries just outside the range are dirty: a tracker reading one entry too far would report them.
        proc.setEntry(RAM_START - KERNEL_PAGE, FakeProcDir.PRESENT | PagemapDecoder.SOFT_DIRTY);
        proc.setEntry(RAM_START + (long) pageCount * pageSize, FakeProcDir.PRESENT | PagemapDecoder.SOFT_DIRTY);
        try (SoftDirtyTracker tracker = tracker(pageCount, pageSize)) {
            for (int round = 0; round < 6; round++) {
                BitSet expected = new BitSet();
                double density = random.nextDouble() * 0.3;
                for (int p = 0; p < pageCount; p++) {
                    if (random.nextDouble() < density) {
                        expected.set(p);
                        write(p, pageSize);
                    } else if (random.nextBoolean()) {
                        // Present or swapped but clean: neither bit means written.
                        proc.setEntry(RAM_START + (long) p * pageSize,
                                random.nextBoolean() ? FakeProcDir.PRESENT | FakeProcDir.FILE_PAGE : FakeProcDir.SWAPPED);
                    }
                }
                assertThat(Pages.toBitSet(tracker.collect())).as("round %d", round).isEqualTo(expected);
                proc.applyClearRefs();
            }
        }
    }

    @Test
    void firstLastNeighboursAndAPageWrittenTwice() throws IOException {
        int pageSize = 8192;
        try (SoftDirtyTracker tracker = tracker(130, pageSize)) {
            for (int p : new int[] {0, 63, 64, 65, 129}) {
                write(p, pageSize);
            }
            // Page 10 written twice: once in each of its 4 KiB halves.
            proc.write(RAM_START + 10L * pageSize);
            proc.write(RAM_START + 10L * pageSize + KERNEL_PAGE);
            assertThat(Pages.toBitSet(tracker.collect())).isEqualTo(Pages.of(0, 10, 63, 64, 65, 129));
            proc.applyClearRefs();
            assertThat(tracker.collect().isEmpty()).isTrue();
        }
    }

    @Test
    void aReturnedSetStaysIntactUntilTheNextCollect() throws IOException {
        try (SoftDirtyTracker tracker = tracker(64, KERNEL_PAGE)) {
            write(1, KERNEL_PAGE);
            DirtyPageSet first = tracker.collect();
            proc.applyClearRefs();
            write(2, KERNEL_PAGE);
            DirtyPageSet second = tracker.collect();
            assertThat(Pages.toBitSet(first)).isEqualTo(Pages.of(1));
            assertThat(Pages.toBitSet(second)).isEqualTo(Pages.of(2));
            assertThat(tracker.name()).isEqualTo("soft-dirty");
        }
    }

    @Test
    void rejectsBadGeometry() {
        assertThatThrownBy(() -> new SoftDirtyTracker(proc.dir(), RAM_START, 8192, 6144))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 4096");
        assertThatThrownBy(() -> new SoftDirtyTracker(proc.dir(), RAM_START + 100, 8192, 4096))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("aligned");
        assertThatThrownBy(() -> new SoftDirtyTracker(proc.dir(), RAM_START, 12288, 8192))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number");
    }

    @Test
    void aMissingProcessIsAnIOException() {
        assertThatThrownBy(() -> new SoftDirtyTracker(tempDir.resolve("no-such-pid"), RAM_START, 4096, 4096))
                .isInstanceOf(IOException.class);
    }

    @Test
    void aPagemapEndingInsideTheRangeFailsTheCollect() throws IOException {
        try (SoftDirtyTracker tracker = tracker(4, KERNEL_PAGE)) {
            try (FileChannel channel = FileChannel.open(proc.dir().resolve("pagemap"), StandardOpenOption.WRITE)) {
                channel.truncate(RAM_START / KERNEL_PAGE * 8 + 16);
            }
            assertThatThrownBy(tracker::collect).isInstanceOf(UncheckedIOException.class)
                    .hasRootCauseMessage(proc.dir().resolve("pagemap") + ": ended at byte "
                            + (RAM_START / KERNEL_PAGE * 8 + 16) + " before the end of the range");
        }
    }
}
