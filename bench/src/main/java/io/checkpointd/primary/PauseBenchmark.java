package io.checkpointd.primary;

import io.checkpointd.netbuffer.OutputCommit;
import io.checkpointd.bench.BenchDomain;
import io.checkpointd.bench.GuestRam;
import io.checkpointd.dirty.DirtyStats;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.util.ReferenceCountUtil;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * One checkpoint through the real {@link EpochLoop}: pause, collect the dirty bitmap, copy the dirty pages
 * into staging, capture device state, barrier, resume, and the loop's bookkeeping around it (metrics,
 * progress, hand-off to the sender). Average time per checkpoint against the pages dirtied in the epoch,
 * on a 512 MiB guest. What is left out is the guest's own cost of stopping: {@link BenchDomain} pauses
 * and resumes for free, output commit is a no-op, and the "sender" returns the staging buffer and
 * acknowledges at once, so the loop never waits for a backup.
 *
 * <p>Before every checkpoint the benchmark dirties {@code dirtyPages} distinct pages, chosen at random
 * over the whole guest (consecutive windows of one shuffled order), by writing a word in each, as the sim
 * workload does. That has to happen outside the measured time, hence {@code @Setup(Level.Invocation)}.
 * JMH warns that this level suits only invocations of a millisecond or more: it reads the clock around
 * each call (tens of nanoseconds with a TSC clock source, against microseconds for an empty
 * checkpoint), and the setup leaves its own footprint in the caches. Here that footprint is the point:
 * just before a real pause the guest has written those same pages and bitmap words. The alternatives are
 * worse: dirtying inside the measured method needs a second benchmark subtracted from it, noise on noise.
 * As a cross-check, the tear-down prints the loop's own pause measurement (pause to resume, from its
 * HdrHistogram), which excludes JMH's and the loop's bookkeeping.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class PauseBenchmark {
    private static final long RAM_BYTES = 512L << 20;
    private static final long EPOCH_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(50);

    @Param({"0", "64", "1024", "16384", "65536"})
    int dirtyPages;

    private BenchDomain domain;
    private StagingPool pool;
    private PrimaryMetrics metrics;
    private EpochLoop loop;
    private int[] pageOrder;
    private int nextInOrder;
    private final SplittableRandom random = new SplittableRandom(7);
    /** The time handed to {@code doWork}: one epoch per checkpoint, starting one epoch after the guest started. */
    private long nowNs = EPOCH_INTERVAL_NS;
    private final Histogram measuredPauses = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);

    @Setup(Level.Trial)
    public void setUp() {
        domain = new BenchDomain(RAM_BYTES);
        pool = new StagingPool(GuestRam.PAGE_SIZE_BYTES);
        CheckpointProgress progress = new CheckpointProgress();
        metrics = new PrimaryMetrics(new SimpleMeterRegistry(), domain.name());
        OutputCommit noOutput = new OutputCommit() {
            @Override public void barrier(long epoch) { }
            @Override public void release(long epoch) { }
            @Override public void releaseAll() { }
        };
        SinkLink link = new SinkLink(ReferenceCountUtil::release);
        CheckpointSink sink = new CheckpointSink() {
            @Override
            public void submit(Staging staging) {
                if (staging.pageCount() != dirtyPages) {
                    throw new IllegalStateException("checkpoint " + staging.epoch + " staged " + staging.pageCount()
                            + " pages, " + dirtyPages + " were dirtied");
                }
                progress.onAck(staging.epoch);
                pool.release(staging);
            }

            @Override
            public void submitRound(LiveRound round) {
                throw new IllegalStateException("the benchmark takes its full checkpoint paused");
            }

            @Override
            public long roundsCompleted() {
                return 0;
            }
        };
        loop = new EpochLoop(domain, link, noOutput, pool, sink, progress, metrics, new DirtyStats(),
                new InitialSyncStats(), System::nanoTime, EPOCH_INTERVAL_NS, 1, false);
        pageOrder = GuestRam.shuffledPages(Math.toIntExact(domain.memory().pageCount()), 42);
        // The first checkpoint grows the staging buffer to its size for this run: not measured.
        dirtyOneEpoch();
        checkpoint();
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        metrics.pauseHistogram().reset();
    }

    @TearDown(Level.Iteration)
    public void endIteration(IterationParams iteration) {
        if (iteration.getType() == IterationType.MEASUREMENT) {
            measuredPauses.add(metrics.pauseHistogram());
        }
    }

    @Setup(Level.Invocation)
    public void dirtyOneEpoch() {
        for (int i = 0; i < dirtyPages; i++) {
            domain.write(pageOrder[nextInOrder], random.nextInt(GuestRam.PAGE_SIZE_BYTES / Long.BYTES));
            nextInOrder = nextInOrder + 1 == pageOrder.length ? 0 : nextInOrder + 1;
        }
    }

    @Benchmark
    public int checkpoint() {
        int checkpoints = loop.doWork(nowNs);
        nowNs += EPOCH_INTERVAL_NS;
        return checkpoints;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.printf("%nEpochLoop's own pause timer (measurement iterations), %d dirty pages: %d checkpoints,"
                        + " mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us%n",
                dirtyPages, measuredPauses.getTotalCount(), measuredPauses.getMean() / 1e3,
                measuredPauses.getValueAtPercentile(50) / 1e3, measuredPauses.getValueAtPercentile(99) / 1e3,
                measuredPauses.getMaxValue() / 1e3);
        pool.close();
        domain.close();
    }
}
