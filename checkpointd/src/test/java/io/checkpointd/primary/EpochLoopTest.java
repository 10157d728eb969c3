package io.checkpointd.primary;

import io.checkpointd.netbuffer.OutputCommit;
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
    private final FakeSink sink = new FakeSink();
    private final List<Staging> staged = sink.staged;
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
        loop = new EpochLoop(domain, link, commit, pool, sink, progress, metrics, new DirtyStats(),
                new InitialSyncStats(), () -> fakeNowNs, EPOCH_NS, 2, false);
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
        }, pool, sink, progress, metrics, new DirtyStats(), new InitialSyncStats(), () -> clock[0], EPOCH_NS, 2,
                false);
        timed.doWork(0);
        assertThat(metrics.pauseHistogram().getMaxValue()).isBetween(1_499_000L, 1_501_000L);
        assertThat(staged.getFirst().deviceState).isNotEmpty();
        assertThat(domain.memory().segment().get(ValueLayout.JAVA_LONG, 0)).isZero();
    }

    @Test
    void aLiveFullSyncSendsRoundsWhileTheGuestRunsAndPausesOnlyForTheRest() {
        InitialSyncStats sync = new InitialSyncStats();
        EpochLoop live = new EpochLoop(domain, link, new OutputCommit() {
            @Override public void barrier(long epoch) { output.add("barrier " + epoch); }
            @Override public void release(long epoch) { }
            @Override public void releaseAll() { }
        }, pool, sink, progress, metrics, new DirtyStats(), sync, () -> fakeNowNs, EPOCH_NS, 2, true);
        SplittableRandom random = new SplittableRandom(5);
        assertThat(live.doWork(fakeNowNs)).isEqualTo(1);
        assertThat(sink.rounds).hasSize(1);
        assertThat(sink.rounds.getFirst().first()).isTrue();
        assertThat(sink.rounds.getFirst().pages().count()).isEqualTo(256);
        assertThat(live.doWork(fakeNowNs)).as("round 1 still being sent").isZero();

        TreeSet<Long> written = new TreeSet<>();
        for (int i = 0; i < 120; i++) {
            long page = random.nextLong(256);
            written.add(page);
            domain.write(page, i, random);
        }
        sink.completed = 1;
        assertThat(live.doWork(fakeNowNs)).isEqualTo(1);
        assertThat(sink.rounds).hasSize(2);
        LiveRound second = sink.rounds.get(1);
        assertThat(second.first()).isFalse();
        assertThat(second.pages().count()).isEqualTo(written.size());
        written.forEach(p -> assertThat(second.pages().contains(p)).isTrue());
        assertThat(staged).as("nothing staged while pre-copying").isEmpty();
        assertThat(output).as("output not held yet: the backup has nothing consistent").isEmpty();

        domain.write(7, 1, random);
        domain.write(200, 2, random);
        sink.completed = 2;
        assertThat(live.doWork(fakeNowNs)).isEqualTo(1);
        assertThat(staged).hasSize(1);
        Staging last = staged.getFirst();
        assertThat(last.continuesPreCopy).isTrue();
        assertThat(last.full).isTrue();
        assertThat(last.pageCount()).as("the final pause copies only what is still dirty").isEqualTo(2);
        assertThat(output).containsExactly("barrier " + last.epoch);
        assertThat(sync.pagesPerRound()).containsExactly(256L, (long) written.size());
        assertThat(sync.stopReason()).contains("fewer than");
        assertThat(live.preCopying()).isFalse();
    }

    @Test
    void aLostConnectionAbandonsThePreCopy() {
        EpochLoop live = new EpochLoop(domain, link, new OutputCommit() {
            @Override public void barrier(long epoch) { }
            @Override public void release(long epoch) { }
            @Override public void releaseAll() { }
        }, pool, sink, progress, metrics, new DirtyStats(), new InitialSyncStats(), () -> fakeNowNs, EPOCH_NS, 2, true);
        live.doWork(fakeNowNs);
        assertThat(live.preCopying()).isTrue();
        link.reconnect();
        sink.completed = 1;
        assertThat(live.doWork(fakeNowNs)).isZero();
        assertThat(live.preCopying()).isFalse();
        assertThat(live.doWork(fakeNowNs)).as("the new connection starts over").isEqualTo(1);
        assertThat(sink.rounds.getLast().first()).isTrue();
        assertThat(sink.rounds.getLast().linkGeneration()).isEqualTo(2);
    }
}
