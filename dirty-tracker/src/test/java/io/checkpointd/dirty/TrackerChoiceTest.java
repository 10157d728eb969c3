package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrackerChoiceTest {
    private static final int PAGE = 4096;
    private static final SoftDirtySupport.Probe SUPPORTED = new SoftDirtySupport.Probe(true, "works");
    private static final SoftDirtySupport.Probe UNSUPPORTED =
            new SoftDirtySupport.Probe(false, SoftDirtySupport.NO_SOFT_DIRTY_REASON);
    /** A pid above Linux's largest pid_max (2^22): no such process. */
    private static final long NO_SUCH_PID = Integer.MAX_VALUE;

    @TempDir
    Path tempDir;
    private final Arena arena = Arena.ofShared();
    private MemorySegment ram;
    private final ExactTracker exact = new ExactTracker(64);
    private int probes;

    @BeforeEach
    void mapRam() throws IOException {
        try (FileChannel file = FileChannel.open(tempDir.resolve("pc.ram"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ram = file.map(FileChannel.MapMode.READ_WRITE, 0, 64 * PAGE, arena);
        }
    }

    @AfterEach
    void unmap() {
        arena.close();
    }

    private Supplier<SoftDirtySupport.Probe> counting(SoftDirtySupport.Probe result) {
        return () -> {
            probes++;
            return result;
        };
    }

    /** What a QEMU driver offers: its process's mapping of the RAM (here: this process's), and the RAM to scan. */
    private TrackerOffer qemuLike() {
        return TrackerOffer.pageSize(PAGE).withSoftDirty(ProcessHandle.current().pid(), ram.address(), ram.byteSize())
                .withScan(ram).withScanThreads(1);
    }

    private static TrackerChoice choose(TrackingMode mode, TrackerOffer offer, Supplier<SoftDirtySupport.Probe> probe) {
        return TrackerChoice.choose(mode, offer, probe);
    }

    @Test
    void autoTakesTheDriversExactTrackerWithoutProbing() {
        TrackerChoice choice = choose(TrackingMode.AUTO, qemuLike().withExact(exact), counting(SUPPORTED));
        assertThat(choice.tracker()).isSameAs(exact);
        assertThat(choice.logMessage()).isEqualTo("dirty tracking: exact (the driver reports the guest's writes)");
        assertThat(probes).isZero();
    }

    @Test
    void autoTakesSoftDirtyWhenTheKernelHasIt() {
        TrackerChoice choice = choose(TrackingMode.AUTO, qemuLike(), counting(SUPPORTED));
        try (DirtyTracker tracker = choice.tracker()) {
            assertThat(tracker).isInstanceOf(SoftDirtyTracker.class);
            assertThat(choice.logMessage()).isEqualTo("dirty tracking: soft-dirty (the kernel tracks soft-dirty bits)");
            assertThat(probes).isOne();
        }
    }

    @Test
    void autoFallsBackToScanWithTheProbesReason() {
        TrackerChoice choice = choose(TrackingMode.AUTO, qemuLike(), counting(UNSUPPORTED));
        try (DirtyTracker tracker = choice.tracker()) {
            assertThat(tracker).isInstanceOf(ScanTracker.class);
            assertThat(choice.logMessage()).isEqualTo("dirty tracking: scan (soft-dirty unavailable: kernel lacks "
                    + "CONFIG_MEM_SOFT_DIRTY: bit 55 stayed clear after a write)");
        }
    }

    @Test
    void autoFallsBackToScanWhenTheProcessCannotBeWatched() {
        TrackerOffer offer = qemuLike().withSoftDirty(NO_SUCH_PID, ram.address(), ram.byteSize());
        TrackerChoice choice = choose(TrackingMode.AUTO, offer, counting(SUPPORTED));
        try (DirtyTracker tracker = choice.tracker()) {
            assertThat(tracker).isInstanceOf(ScanTracker.class);
            assertThat(choice.logMessage()).isEqualTo("dirty tracking: scan (soft-dirty unavailable: /proc/"
                    + NO_SUCH_PID + "/pagemap: no such file)");
        }
    }

    @Test
    void autoScansWithoutProbingWhenNoProcessIsOffered() {
        TrackerChoice choice = choose(TrackingMode.AUTO, TrackerOffer.pageSize(PAGE).withScan(ram), counting(SUPPORTED));
        try (DirtyTracker tracker = choice.tracker()) {
            assertThat(tracker.name()).isEqualTo("scan");
            assertThat(choice.logMessage())
                    .isEqualTo("dirty tracking: scan (the driver offers no process mapping for soft-dirty)");
            assertThat(probes).isZero();
        }
    }

    @Test
    void autoWithNothingUsableFails() {
        TrackerOffer offer = TrackerOffer.pageSize(PAGE).withSoftDirty(1, 0, PAGE);
        assertThatThrownBy(() -> choose(TrackingMode.AUTO, offer, counting(UNSUPPORTED)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("dirty tracking: nothing usable: no exact tracker, soft-dirty unavailable: "
                        + SoftDirtySupport.NO_SOFT_DIRTY_REASON + ", and no mapped guest RAM to scan");
    }

    @Test
    void explicitModesGetWhatTheyAskFor() {
        TrackerOffer offer = qemuLike().withExact(exact);
        TrackerChoice exactChoice = choose(TrackingMode.EXACT, offer, counting(UNSUPPORTED));
        assertThat(exactChoice.tracker()).isSameAs(exact);
        assertThat(exactChoice.logMessage()).isEqualTo("dirty tracking: exact (configured)");

        TrackerChoice scan = choose(TrackingMode.SCAN, offer, counting(SUPPORTED));
        try (DirtyTracker tracker = scan.tracker()) {
            assertThat(tracker).isInstanceOf(ScanTracker.class);
            assertThat(scan.logMessage()).isEqualTo("dirty tracking: scan (configured)");
        }

        TrackerChoice softDirty = choose(TrackingMode.SOFT_DIRTY, offer, counting(SUPPORTED));
        try (DirtyTracker tracker = softDirty.tracker()) {
            assertThat(tracker).isInstanceOf(SoftDirtyTracker.class);
            assertThat(softDirty.logMessage()).isEqualTo("dirty tracking: soft-dirty (configured)");
        }
        assertThat(probes).as("only soft-dirty needs the probe").isOne();
    }

    @Test
    void softDirtyOnAKernelWithoutItIsAnErrorNamingTheReason() {
        assertThatThrownBy(() -> choose(TrackingMode.SOFT_DIRTY, qemuLike(), counting(UNSUPPORTED)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("dirty tracking: soft-dirty requested but unavailable: kernel lacks CONFIG_MEM_SOFT_DIRTY: "
                        + "bit 55 stayed clear after a write");
    }

    @Test
    void softDirtyOnThisKernelFollowsTheRealProbe() {
        SoftDirtySupport.Probe probe = SoftDirtySupport.probe();
        if (probe.supported()) {
            try (DirtyTracker tracker = TrackerChoice.choose(TrackingMode.SOFT_DIRTY, qemuLike()).tracker()) {
                assertThat(tracker.name()).isEqualTo("soft-dirty");
            }
        } else {
            assertThatThrownBy(() -> TrackerChoice.choose(TrackingMode.SOFT_DIRTY, qemuLike()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageEndingWith("unavailable: " + probe.reason());
        }
    }

    @Test
    void explicitModesTheDriverCannotServeAreErrors() {
        TrackerOffer nothing = TrackerOffer.pageSize(PAGE);
        assertThatThrownBy(() -> choose(TrackingMode.EXACT, qemuLike(), counting(SUPPORTED)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("does not report the guest's writes");
        assertThatThrownBy(() -> choose(TrackingMode.SCAN, nothing, counting(SUPPORTED)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no mapped guest RAM");
        assertThatThrownBy(() -> choose(TrackingMode.SOFT_DIRTY, nothing, counting(SUPPORTED)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no process mapping");
        TrackerOffer gone = nothing.withSoftDirty(NO_SUCH_PID, 0, PAGE);
        assertThatThrownBy(() -> choose(TrackingMode.SOFT_DIRTY, gone, counting(SUPPORTED)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("dirty tracking: soft-dirty requested but unavailable: /proc/" + NO_SUCH_PID
                        + "/pagemap: no such file");
    }

    @Test
    void modesParseFromTheirConfigNames() {
        assertThat(TrackingMode.fromConfigName("auto")).isEqualTo(TrackingMode.AUTO);
        assertThat(TrackingMode.fromConfigName("soft-dirty")).isEqualTo(TrackingMode.SOFT_DIRTY);
        assertThat(TrackingMode.SCAN.configName()).isEqualTo("scan");
        assertThatThrownBy(() -> TrackingMode.fromConfigName("softdirty"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'softdirty' is not a dirty-tracking mode; use one of auto, exact, scan, soft-dirty");
    }
}
