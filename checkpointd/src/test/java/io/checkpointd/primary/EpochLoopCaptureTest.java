package io.checkpointd.primary;

import io.checkpointd.netbuffer.OutputCommit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.checkpointd.config.PreCopyConfig;
import io.checkpointd.dirty.DirtyPageSet;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.driver.GuestMemory;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.testing.TestDomain;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device-state capture overlaps collect and copy: begun right after the pause, awaited after the copy,
 * always ended before the resume; the pause's device-state phase counts only what the pause waits for it.
 */
class EpochLoopCaptureTest {
    private static final long EPOCH_NS = 50_000_000;
    private static final int PAGE = 4096;
    private static final long BEGIN_NS = 300_000;
    private static final long COLLECT_NS = 10_000_000;
    private static final long CAPTURE_WAIT_NS = 700_000;

    @TempDir
    Path dir;

    private final List<String> events = new ArrayList<>();
    private final long[] nowNs = {0};
    private TestDomain guest;
    private RecordingDomain domain;
    private StagingPool pool;
    private PrimaryMetrics metrics;
    private EpochLoop loop;
    private boolean failCollect;

    /** Records the loop's calls in order; advances the fake clock as a QEMU domain would take time. */
    private final class RecordingDomain implements ProtectedDomain {
        private boolean paused;

        @Override public String name() { return "recorded"; }

        @Override
        public GuestMemory memory() {
            // While paused (in an incremental epoch) the loop reads memory only to copy the dirty pages.
            if (paused) {
                events.add("copy");
            }
            return guest.memory();
        }

        @Override public DirtyTracker dirtyTracker() { return tracker; }

        @Override
        public void pause() {
            paused = true;
            events.add("pause");
        }

        @Override
        public void beginDeviceStateCapture() {
            events.add("beginDeviceStateCapture");
            nowNs[0] += BEGIN_NS;
        }

        @Override
        public byte[] captureDeviceState() {
            events.add("captureDeviceState");
            nowNs[0] += CAPTURE_WAIT_NS;
            return new byte[] {1, 2, 3};
        }

        @Override
        public void resume() {
            paused = false;
            events.add("resume");
        }

        @Override public void close() { }
    }

    private final DirtyTracker tracker = new DirtyTracker() {
        @Override public String name() { return "recording"; }

        @Override
        public DirtyPageSet collect() {
            events.add("collect");
            nowNs[0] += COLLECT_NS;
            if (failCollect) {
                throw new IllegalStateException("scan failed");
            }
            return guest.dirtyTracker().collect();
        }
    };

    @BeforeEach
    void setUp() {
        guest = new TestDomain(dir.resolve("ram"), 64 * PAGE, PAGE);
        domain = new RecordingDomain();
        pool = new StagingPool(PAGE);
        metrics = new PrimaryMetrics(new SimpleMeterRegistry(), "recorded");
        OutputCommit commit = new OutputCommit() {
            @Override public void barrier(long epoch) { }
            @Override public void release(long epoch) { }
            @Override public void releaseAll() { }
        };
        loop = new EpochLoop(domain, FakeLink.collecting(new ArrayList<>()), commit, pool, new FakeSink(),
                new CheckpointProgress(), metrics, new DirtyStats(), new InitialSyncStats(), () -> nowNs[0], EPOCH_NS,
                8, false, PreCopyConfig.defaults(), tracker);
    }

    @AfterEach
    void tearDown() {
        pool.close();
        guest.close();
    }

    @Test
    void theCaptureBeginsRightAfterThePauseAndIsAwaitedAfterTheCopy() {
        loop.doWork(nowNs[0]); // the first, full checkpoint
        events.clear();
        guest.writeRandomPages(5, new SplittableRandom(3));
        nowNs[0] += EPOCH_NS + COLLECT_NS;
        assertThat(loop.doWork(nowNs[0])).isEqualTo(1);
        assertThat(events).containsExactly("pause", "beginDeviceStateCapture", "collect", "copy",
                "captureDeviceState", "resume");
    }

    @Test
    void theDeviceStatePhaseIsWhatThePauseWaitsForNotTheCapturesWholeDuration() {
        loop.doWork(nowNs[0]);
        PausePhases phases = metrics.phases;
        assertThat(phases.histogram(PausePhases.Phase.DEVICE_STATE).getMaxValue())
                .as("begin + the wait left after copy; the collect it overlapped is collect's")
                .isBetween(BEGIN_NS + CAPTURE_WAIT_NS - 1000, BEGIN_NS + CAPTURE_WAIT_NS + 1000);
        assertThat(phases.histogram(PausePhases.Phase.COLLECT).getMaxValue())
                .isBetween(COLLECT_NS - 10_000, COLLECT_NS + 10_000);
    }

    @Test
    void aFailedCollectStillEndsTheCaptureBeforeTheResume() {
        failCollect = true;
        assertThatThrownBy(() -> loop.doWork(nowNs[0])).hasMessage("scan failed");
        assertThat(events).containsExactly("pause", "beginDeviceStateCapture", "collect", "captureDeviceState",
                "resume");
    }
}
