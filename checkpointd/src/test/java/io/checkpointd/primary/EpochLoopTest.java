package io.checkpointd.primary;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.testing.TestDomain;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The epoch loop, driven step by step with a fake clock: no threads, no sleeps. */
class EpochLoopTest {
    private static final long EPOCH_NS = 50_000_000;
    private static final int PAGE = 4096;

    @TempDir
    Path dir;

    private TestDomain domain;
    private final List<Staging> staged = new ArrayList<>();
    private final List<String> output = new ArrayList<>();
    private FakeLink link;
    private StagingPool pool;
    private CheckpointProgress progress;
    private PrimaryMetrics metrics;
    private long fakeNowNs;
    private EpochLoop loop;

    @BeforeEach
    void setUp() {
        domain = new TestDomain(dir.resolve("ram"), 256 * PAGE, PAGE);
        link = FakeLink.collecting(new ArrayList<>());
        pool = new StagingPool(PAGE);
        progress = new CheckpointProgress();
        metrics = new PrimaryMetrics(new SimpleMeterRegistry(), "test");
        OutputCommit commit = new OutputCommit() {
            @Override public void barrier(long epoch) {
                assertThat(domain.isPaused()).as("barrier while paused").isTrue();
                domain.recordEvent("barrier " + epoch);
                output.add("barrier " + epoch);
            }
            @Override public void release(long epoch) { output.add("release " + epoch); }
            @Override public void releaseAll() { output.add("releaseAll"); }
        };
        loop = new EpochLoop(domain, link, commit, pool, staged::add, progress, metrics, new DirtyStats(),
                () -> fakeNowNs, EPOCH_NS, 2);
    }

    @AfterEach
    void tearDown() {
        pool.close();
        domain.close();
    }

    @Test
    void firstCheckpointIsFullAndLaterOnesCarryExactlyTheWrittenPages() {
        SplittableRandom random = new SplittableRandom(1);
        assertThat(loop.doWork(fakeNowNs)).isEqualTo(1);
        assertThat(staged).hasSize(1);
        Staging full = staged.getFirst();
        assertThat(full.full).isTrue();
        assertThat(full.pageCount()).isEqualTo(256);
        assertThat(domain.events()).containsExactly("pause", "capture", "barrier 1", "resume");
        pool.release(full);

        TreeSet<Long> written = new TreeSet<>(List.of(0L, 1L, 63L, 64L, 200L, 255L));
        for (long p : written) {
            domain.write(p, p * 7 + 1, random);
        }
        domain.write(64, 99, random); // twice: still one page
        fakeNowNs += EPOCH_NS;
        assertThat(loop.doWork(fakeNowNs)).isEqualTo(1);
        Staging second = staged.get(1);
        assertThat(second.full).isFalse();
        assertThat(second.epoch).isEqualTo(2);
        List<Long> numbers = new ArrayList<>();
        for (int i = 0; i < second.pageCount(); i++) {
            numbers.add(second.pageNumber(i));
        }
        assertThat(numbers).containsExactlyElementsOf(written);
        MemorySegment ram = domain.memory().segment();
        for (int i = 0; i < second.pageCount(); i++) {
            long page = second.pageNumber(i);
            assertThat(second.pages(i, 1).mismatch(ram.asSlice(page * PAGE, PAGE))).isEqualTo(-1);
        }
        assertThat(new String(second.deviceState, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("device-state-2");
    }

    @Test
    void nothingHappensBeforeTheEpochIsDue() {
        loop.doWork(fakeNowNs);
        fakeNowNs += EPOCH_NS - 1;
        assertThat(loop.doWork(fakeNowNs)).isZero();
        fakeNowNs += 1;
        assertThat(loop.doWork(fakeNowNs)).isEqualTo(1);
    }

    @Test
    void waitsWhenTheBackupIsMaxInFlightBehindAndCountsTheStall() {
        for (int i = 0; i < 2; i++) {
            assertThat(loop.doWork(fakeNowNs)).isEqualTo(1);
            fakeNowNs += EPOCH_NS;
        }
        assertThat(loop.doWork(fakeNowNs)).as("two unacknowledged: wait").isZero();
        fakeNowNs += EPOCH_NS;
        assertThat(loop.doWork(fakeNowNs)).isZero();
        assertThat(metrics.stalls()).isEqualTo(1);
        progress.onAck(1);
        assertThat(loop.doWork(fakeNowNs)).isEqualTo(1);
        assertThat(staged.getLast().epoch).isEqualTo(3);
    }

    @Test
    void noCheckpointWithoutABackupAndAFullOneAfterReconnecting() {
        loop.doWork(fakeNowNs);
        link.ready = false;
        fakeNowNs += EPOCH_NS;
        assertThat(loop.doWork(fakeNowNs)).isZero();
        link.minimumNextEpoch = 40;
        link.reconnect();
        progress.onLinkLost();
        assertThat(loop.doWork(fakeNowNs)).isEqualTo(1);
        assertThat(staged.getLast().full).isTrue();
        assertThat(staged.getLast().epoch).as("continues after the backup's last committed epoch").isEqualTo(40);
        assertThat(staged.getLast().linkGeneration).isEqualTo(2);
    }

    @Test
    void pauseTimeIsMeasuredOnTheInjectedClock() {
        long[] clock = {0};
        EpochLoop timed = new EpochLoop(domain, link, new OutputCommit() {
            @Override public void barrier(long epoch) { clock[0] += 1_500_000; }
            @Override public void release(long epoch) { }
            @Override public void releaseAll() { }
        }, pool, staged::add, progress, metrics, new DirtyStats(), () -> clock[0], EPOCH_NS, 2);
        timed.doWork(0);
        assertThat(metrics.pauseHistogram().getMaxValue()).isBetween(1_499_000L, 1_501_000L);
        assertThat(staged.getFirst().deviceState).isNotEmpty();
        assertThat(domain.memory().segment().get(ValueLayout.JAVA_LONG, 0)).isZero();
    }
}
