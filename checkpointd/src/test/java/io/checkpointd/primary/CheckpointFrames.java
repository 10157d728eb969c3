package io.checkpointd.primary;

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
        pool = new StagingPool(domain.memory().pageSizeBytes());
        PrimaryMetrics metrics = new PrimaryMetrics(new SimpleMeterRegistry(), domain.name());
        CheckpointSender sender = new CheckpointSender(domain.name(), link, pool, metrics, batchPages, compress);
        OutputCommit none = new OutputCommit() {
            @Override public void barrier(long epoch) { }
            @Override public void release(long epoch) { }
            @Override public void releaseAll() { }
        };
        loop = new EpochLoop(domain, link, none, pool, staging -> {
            try {
                sender.sendNow(staging);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, progress, metrics, new DirtyStats(), () -> nowNs, EPOCH_NS, Integer.MAX_VALUE);
    }

    /** Takes a checkpoint of the domain as it is now and returns its frames, BEGIN to END. */
    public List<Frame> next() {
        out.clear();
        if (loop.doWork(nowNs) != 1) {
            throw new IllegalStateException("no checkpoint was due");
        }
        nowNs += EPOCH_NS;
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
