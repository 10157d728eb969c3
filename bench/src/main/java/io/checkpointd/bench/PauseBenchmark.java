package io.checkpointd.bench;

import io.checkpointd.backup.BackupDaemon;
import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.DomainConfig;
import io.checkpointd.config.EpochConfig;
import io.checkpointd.config.TlsConfig;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.driver.Driver;
import io.checkpointd.driver.GuestAttachment;
import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.launch.LaunchContext;
import io.checkpointd.netbuffer.HeldEgress;
import io.checkpointd.primary.EpochLoop;
import io.checkpointd.primary.PrimaryDaemon;
import io.checkpointd.replication.wire.GuestSpec;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;
import io.checkpointd.util.FileTrees;
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
 * One checkpoint through the real primary daemon, launched from a {@link LaunchContext} as the command line
 * launches it, with a real backup daemon over TCP on loopback (its UDP heartbeats keep the primary hearing
 * it while it applies the 512 MiB full checkpoint): pause, collect the dirty bitmap, copy
 * the dirty pages into staging, capture device state, barrier, resume, and the loop's bookkeeping around it.
 * Average time per checkpoint against the pages dirtied in the epoch, on a 512 MiB guest. Left out is the
 * guest's own cost of stopping: {@link BenchDomain} pauses and resumes for free. The daemon runs no epoch
 * thread ({@link LaunchContext#invokeEpochs}): the benchmark invokes its epoch loop, one checkpoint per call.
 *
 * <p>Before every checkpoint the benchmark dirties {@code dirtyPages} distinct pages, chosen at random
 * over the whole guest (consecutive windows of one shuffled order), by writing a word in each, as the sim
 * workload does, and after it waits for the backup's ACK; both outside the measured time, hence
 * {@code @Setup(Level.Invocation)} and {@code @TearDown(Level.Invocation)}. So each checkpoint starts with
 * the sender and the backup idle, as they are at a 50 ms epoch, and the loop never waits for a backup.
 * JMH warns that this level suits only invocations of a millisecond or more: it reads the clock around
 * each call, and the setup leaves its own footprint in the caches. Here that footprint is the point: just
 * before a real pause the guest has written those same pages and bitmap words. As a cross-check, the
 * tear-down prints the loop's own pause measurement (pause to resume, from its HdrHistogram), which
 * excludes JMH's and the loop's bookkeeping.
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
    private static final String DRIVER = "bench";

    @Param({"0", "64", "1024", "16384", "65536"})
    int dirtyPages;

    private Path dir;
    private BenchDomain domain;
    private BackupDaemon backup;
    private PrimaryDaemon primary;
    private EpochLoop loop;
    private int[] pageOrder;
    private int nextInOrder;
    private final SplittableRandom random = new SplittableRandom(7);
    /**
     * How far the time handed to {@code doWork} moves per call. The loop schedules its next checkpoint an
     * epoch after the real end of the pause (the first, full one takes about a second), so a step must
     * outlast any pause for every call to be due.
     */
    private static final long STEP_NS = TimeUnit.SECONDS.toNanos(60);
    private long nowNs = STEP_NS;
    private final Histogram measuredPauses = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);

    /** The benchmark's guest on the primary; it is never restored (the backup refuses to fail over to it). */
    private final class BenchDriver implements Driver {
        @Override
        public String name() {
            return DRIVER;
        }

        @Override
        public boolean mirrorsDisk() {
            return false;
        }

        @Override
        public GuestAttachment attach(Attach attach) {
            // The guest sends nothing; output commit still runs its barriers and releases.
            HeldEgress egress = new HeldEgress(attach.loop(), attach.outputBuffer(), ByteBuf::release,
                    attach.clock()::nanoTime, true);
            GuestSpec spec = new GuestSpec(DRIVER, RAM_BYTES, GuestRam.PAGE_SIZE_BYTES, 0, "");
            return new GuestAttachment() {
                @Override public ProtectedDomain domain() { return domain; }
                @Override public DirtyTracker tracker() { return domain.dirtyTracker(); }
                @Override public HeldEgress egress() { return egress; }
                @Override public GuestSpec guest() { return spec; }
                @Override public Path diskImage() { return null; }
                @Override public String summary() { return "benchmark guest"; }
                @Override public void close() { egress.close(); }
            };
        }

        @Override
        public GuestRestorer restorer(EventLoop guestNetwork, MeterRegistry registry) {
            return (name, guest, replica, deviceState, diskImage, ramInPlace) -> {
                throw new IllegalStateException("the benchmark's backup never fails over");
            };
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("checkpointd-pause-benchmark");
        domain = new BenchDomain(RAM_BYTES);
        CheckpointdConfig base = CheckpointdConfig.defaults();
        CheckpointdConfig config = base.withDomain(new DomainConfig("bench", DRIVER))
                .withEpoch(new EpochConfig(EPOCH_INTERVAL_NS, 2, EpochConfig.PAUSED))
                .withBackup(base.backup().withDir(dir).allowing("bench", List.of("primary")))
                // Plain TCP on loopback: this measures the pause, which TLS does not touch.
                .withReplication(base.replication().withTls(TlsConfig.off()));
        backup = BackupDaemon.launch(new LaunchContext().config(config).driver(new BenchDriver())
                .listenAddress(new InetSocketAddress("127.0.0.1", 0)));
        primary = PrimaryDaemon.launch(new LaunchContext().config(config).driver(new BenchDriver())
                .backupAddress(backup.address()).invokeEpochs(true));
        loop = primary.epochLoop();
        await(primary::isConnected, "the backup accepting the primary");
        pageOrder = GuestRam.shuffledPages(Math.toIntExact(domain.memory().pageCount()), 42);
        // The first checkpoint is the full one (512 MiB, in one pause): not measured.
        checkpoint();
        awaitAck();
        // The next grows the staging buffer to its size for this run: not measured either.
        dirtyOneEpoch();
        checkpoint();
        awaitAck();
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        primary.metrics().pauseHistogram().reset();
    }

    @TearDown(Level.Iteration)
    public void endIteration(IterationParams iteration) {
        if (iteration.getType() == IterationType.MEASUREMENT) {
            measuredPauses.add(primary.metrics().pauseHistogram());
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
        nowNs += STEP_NS;
        if (checkpoints != 1) {
            throw new IllegalStateException("no checkpoint was taken");
        }
        return checkpoints;
    }

    /** The backup committed everything taken so far, so the next checkpoint starts with the sender idle. */
    @TearDown(Level.Invocation)
    public void awaitAck() {
        long taken = primary.metrics().taken();
        await(() -> primary.metrics().committed() >= taken, "the backup's ACK");
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadlineNs = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadlineNs > 0) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.onSpinWait();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.printf("%nEpochLoop's own pause timer (measurement iterations), %d dirty pages: %d checkpoints,"
                        + " mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us%n",
                dirtyPages, measuredPauses.getTotalCount(), measuredPauses.getMean() / 1e3,
                measuredPauses.getValueAtPercentile(50) / 1e3, measuredPauses.getValueAtPercentile(99) / 1e3,
                measuredPauses.getMaxValue() / 1e3);
        primary.close();
        backup.close();
        domain.close();
        try {
            FileTrees.delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
