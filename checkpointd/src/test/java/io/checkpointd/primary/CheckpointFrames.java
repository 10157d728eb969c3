package io.checkpointd.primary;

import io.checkpointd.netbuffer.OutputCommit;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.replication.wire.Frame;
import io.checkpointd.testing.TestDomain;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * Produces the frames of real checkpoints of a {@link TestDomain}, through the real epoch loop and sender,
 * without a network: for backup tests that feed frames one by one. The first checkpoint is full.
 */
public final class CheckpointFrames implements AutoCloseable {
    private static final long EPOCH_NS = 1_000_000;

    private final List<Frame> out = new ArrayList<>();
    private final FakeLink link = FakeLink.collecting(out);
    private final StagingPool pool;
    private final CheckpointProgress progress = new CheckpointProgress();
    private final EpochLoop loop;
    private long nowNs;

    public CheckpointFrames(TestDomain domain, int batchPages, boolean compress) {
        this(domain, batchPages, compress, false);
    }

    /**
     * @param liveFullSync take full checkpoints as a live pre-copy; the rounds are sent at once, so the test
     *                     sees their frames in the same list
     */
    public CheckpointFrames(TestDomain domain, int batchPages, boolean compress, boolean liveFullSync) {
        pool = new StagingPool(domain.memory().pageSizeBytes());
        PrimaryMetrics metrics = new PrimaryMetrics(new SimpleMeterRegistry(), domain.name());
        CheckpointSender sender = new CheckpointSender(domain.name(), link, pool, domain.memory(), metrics, batchPages,
                compress);
        OutputCommit none = new OutputCommit() {
            @Override public void barrier(long epoch) { }
            @Override public void release(long epoch) { }
            @Override public void releaseAll() { }
        };
        CheckpointSink inline = new CheckpointSink() {
            private long done;

            @Override public void submit(Staging staging) { process(sender, staging); }
            @Override public void submitRound(LiveRound round) { process(sender, round); done++; }
            @Override public long roundsCompleted() { return done; }
        };
        loop = new EpochLoop(domain, link, none, pool, inline, progress, metrics, new DirtyStats(),
                new InitialSyncStats(), () -> nowNs, EPOCH_NS, Integer.MAX_VALUE, liveFullSync);
    }

    private static void process(CheckpointSender sender, SendJob job) {
        try {
            sender.process(job);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Takes a checkpoint of the domain as it is now and returns its frames, BEGIN to END. */
    public List<Frame> next() {
        out.clear();
        if (loop.doWork(nowNs) != 1) {
            throw new IllegalStateException("no checkpoint was due");
        }
        while (loop.preCopying()) { // live rounds until the final paused part
            loop.doWork(nowNs);
        }
        nowNs += EPOCH_NS;
        return new ArrayList<>(out);
    }

    /** Runs one step of the loop (a pre-copy round or a checkpoint) and returns the frames it produced. */
    public List<Frame> step() {
        out.clear();
        loop.doWork(nowNs);
        return new ArrayList<>(out);
    }

    /** The next checkpoint will be full, as after a reconnect. */
    public void forceFull() {
        link.reconnect();
    }

    @Override
    public void close() {
        pool.close();
    }
}
