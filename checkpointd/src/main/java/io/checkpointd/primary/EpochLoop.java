package io.checkpointd.primary;

import io.checkpointd.dirty.DirtyPageSet;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.domain.ProtectedDomain;
import io.checkpointd.util.Agent;
import io.checkpointd.util.NanoClock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's epoch loop: every {@code epochIntervalNs} it pauses the guest, collects the dirty pages,
 * copies them into a staging buffer, captures device state, closes the epoch's output with a barrier and
 * resumes. Nothing else happens while paused: compression and the network are the sender's, after resume.
 *
 * <p>Owns the domain's pause/collect/copy/resume and the epoch counter. Runs on one thread; a test drives
 * it with {@link #doWork(long)} and a fake clock. The clock is read only to time the pause itself.
 */
public final class EpochLoop implements Agent {
    private static final Logger LOG = LoggerFactory.getLogger(EpochLoop.class);

    private final ProtectedDomain domain;
    private final ReplicationLink link;
    private final OutputCommit output;
    private final StagingPool pool;
    private final Consumer<Staging> sender;
    private final CheckpointProgress progress;
    private final PrimaryMetrics metrics;
    private final DirtyStats dirtyStats;
    private final NanoClock clock;
    private final long epochIntervalNs;
    private final int maxInFlight;

    private long nextEpoch = 1;
    private long nextCheckpointNs;
    private long lastCheckpointNs;
    private boolean stalled;
    private boolean wasReady;

    EpochLoop(ProtectedDomain domain, ReplicationLink link, OutputCommit output, StagingPool pool,
              Consumer<Staging> sender, CheckpointProgress progress, PrimaryMetrics metrics, DirtyStats dirtyStats,
              NanoClock clock, long epochIntervalNs, int maxInFlight) {
        this.domain = domain;
        this.link = link;
        this.output = output;
        this.pool = pool;
        this.sender = sender;
        this.progress = progress;
        this.metrics = metrics;
        this.dirtyStats = dirtyStats;
        this.clock = clock;
        this.epochIntervalNs = epochIntervalNs;
        this.maxInFlight = maxInFlight;
    }

    @Override
    public String roleName() {
        return "epoch-loop-" + domain.name();
    }

    @Override
    public int doWork(long nowNs) {
        if (!link.isReady()) {
            if (wasReady) {
                LOG.warn("{}: backup lost; guest runs unprotected until a backup is back", domain.name());
                wasReady = false;
            }
            return 0;
        }
        if (nowNs - nextCheckpointNs < 0) {
            return 0;
        }
        int outstanding = progress.outstanding();
        metrics.replicationLagEpochs.set(outstanding);
        if (outstanding >= maxInFlight) {
            if (!stalled) {
                stalled = true;
                metrics.epochStalls.increment();
                LOG.debug("{}: backup is {} checkpoints behind; waiting", domain.name(), outstanding);
            }
            return 0;
        }
        stalled = false;
        boolean full = link.takeFullSyncRequest();
        if (full) {
            nextEpoch = Math.max(nextEpoch, link.minimumNextEpoch());
            LOG.info("{}: backup connected; epoch {} is a full checkpoint", domain.name(), nextEpoch);
            wasReady = true;
        }
        checkpoint(nextEpoch++, full, nowNs);
        nextCheckpointNs = nowNs + epochIntervalNs;
        return 1;
    }

    private void checkpoint(long epoch, boolean full, long nowNs) {
        Staging staging = pool.acquire();
        // Only clock reads inside the pause; the phases are recorded after resume.
        long pauseStartNs = clock.nanoTime();
        long suspendedNs = pauseStartNs;
        long collectedNs = pauseStartNs;
        long copiedNs = pauseStartNs;
        long capturedNs = pauseStartNs;
        long resumeStartNs;
        long resumedNs;
        domain.pause();
        try {
            suspendedNs = clock.nanoTime();
            // Collect even for a full checkpoint: it starts the next interval.
            DirtyPageSet dirty = domain.dirtyTracker().collect();
            if (full) {
                dirty = DirtyPageSet.all(domain.memory().pageCount());
            }
            collectedNs = clock.nanoTime();
            staging.copyFrom(domain.memory().segment(), dirty);
            copiedNs = clock.nanoTime();
            staging.deviceState = domain.captureDeviceState();
            output.barrier(epoch);
            capturedNs = clock.nanoTime();
        } finally {
            resumeStartNs = clock.nanoTime();
            domain.resume();
            resumedNs = clock.nanoTime();
        }
        PausePhases phases = metrics.phases;
        phases.record(PausePhases.Phase.SUSPEND, suspendedNs - pauseStartNs);
        phases.record(PausePhases.Phase.COLLECT, collectedNs - suspendedNs);
        phases.record(PausePhases.Phase.COPY, copiedNs - collectedNs);
        phases.record(PausePhases.Phase.DEVICE_STATE, capturedNs - copiedNs);
        phases.record(PausePhases.Phase.RESUME, resumedNs - resumeStartNs);
        staging.epoch = epoch;
        staging.full = full;
        staging.linkGeneration = link.generation();
        staging.pauseStartNs = pauseStartNs;
        staging.resumedNs = resumedNs;
        long pauseNs = resumedNs - pauseStartNs;
        metrics.recordPause(pauseNs, staging.pageCount());
        metrics.checkpointsTaken.increment();
        if (full) {
            metrics.fullCheckpoints.increment();
        } else {
            dirtyStats.record(staging.pageCount(), nowNs - lastCheckpointNs);
        }
        lastCheckpointNs = nowNs;
        progress.onStaged(epoch, resumedNs);
        sender.accept(staging);
    }

    /** The epoch the next checkpoint will get. */
    public long nextEpoch() {
        return nextEpoch;
    }
}
