package io.checkpointd.primary;

import io.checkpointd.netbuffer.OutputCommit;
import io.checkpointd.config.PreCopyConfig;
import io.checkpointd.dirty.DirtyPageSet;
import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.WorkingSet;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.util.Agent;
import io.checkpointd.util.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's epoch loop: every {@code epochIntervalNs} it pauses the guest, begins capturing the device
 * state, collects the dirty pages, copies them into a staging buffer, waits for the device state, closes the
 * epoch's output with a barrier and resumes. Nothing else happens while paused: compression and the network
 * are the sender's, after resume.
 *
 * <p>A full checkpoint (a new backup connection) is taken live when configured: round 1 sends every page
 * while the guest runs, each later round the pages dirtied during the previous one, until {@link PreCopy}
 * says stop; then one ordinary pause copies what is still dirty and closes the checkpoint. So even a
 * re-synchronisation pauses the guest no longer than an ordinary checkpoint.
 *
 * <p>Owns the domain's pause/collect/copy/resume and the epoch counter. Runs on one thread; a test drives
 * it with {@link #doWork(long)} and a fake clock. The clock is read only to time the pause itself.
 */
public final class EpochLoop implements Agent {
    private static final Logger LOG = LoggerFactory.getLogger(EpochLoop.class);
    /** The writable working set is the pages dirtied in every one of this many consecutive epochs. */
    static final int WORKING_SET_EPOCHS = 8;

    private final ProtectedDomain domain;
    private final ReplicationLink link;
    private final OutputCommit output;
    private final StagingPool pool;
    private final CheckpointSink sink;
    private final CheckpointProgress progress;
    private final PrimaryMetrics metrics;
    private final DirtyStats dirtyStats;
    private final InitialSyncStats syncStats;
    private final NanoClock clock;
    private final long epochIntervalNs;
    private final int maxInFlight;
    private final boolean liveFullSync;
    private final PreCopyConfig preCopyRules;
    private final DirtyTracker tracker;
    private final WorkingSet workingSet;

    private long nextEpoch = 1;
    private long nextCheckpointNs;
    private long lastCheckpointNs;
    private boolean stalled;
    private boolean wasReady;
    private PreCopy preCopy;
    private EpochWriteLog diskLog; // null: the guest has no mirrored disk

    /** The guest's disk changes go out with the checkpoints; full checkpoints then carry the whole image. */
    void attachDisk(EpochWriteLog log) {
        this.diskLog = log;
    }

    EpochLoop(ProtectedDomain domain, ReplicationLink link, OutputCommit output, StagingPool pool, CheckpointSink sink,
              CheckpointProgress progress, PrimaryMetrics metrics, DirtyStats dirtyStats, InitialSyncStats syncStats,
              NanoClock clock, long epochIntervalNs, int maxInFlight, boolean liveFullSync) {
        this(domain, link, output, pool, sink, progress, metrics, dirtyStats, syncStats, clock, epochIntervalNs,
                maxInFlight, liveFullSync, PreCopyConfig.defaults(), domain.dirtyTracker());
    }

    EpochLoop(ProtectedDomain domain, ReplicationLink link, OutputCommit output, StagingPool pool, CheckpointSink sink,
              CheckpointProgress progress, PrimaryMetrics metrics, DirtyStats dirtyStats, InitialSyncStats syncStats,
              NanoClock clock, long epochIntervalNs, int maxInFlight, boolean liveFullSync, PreCopyConfig preCopyRules,
              DirtyTracker tracker) {
        this.preCopyRules = preCopyRules;
        this.tracker = tracker;
        this.workingSet = new WorkingSet(domain.memory().pageCount(), WORKING_SET_EPOCHS);
        this.domain = domain;
        this.link = link;
        this.output = output;
        this.pool = pool;
        this.sink = sink;
        this.progress = progress;
        this.metrics = metrics;
        this.dirtyStats = dirtyStats;
        this.syncStats = syncStats;
        this.clock = clock;
        this.epochIntervalNs = epochIntervalNs;
        this.maxInFlight = maxInFlight;
        this.liveFullSync = liveFullSync;
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
            preCopy = null;
            return 0;
        }
        if (preCopy != null) {
            return preCopyStep(nowNs);
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
        if (link.takeFullSyncRequest()) {
            nextEpoch = Math.max(nextEpoch, link.minimumNextEpoch());
            wasReady = true;
            syncStats.start(liveFullSync);
            if (liveFullSync) {
                startPreCopy();
                return 1;
            }
            LOG.info("{}: backup connected; epoch {} is a full checkpoint, copied in one pause", domain.name(),
                    nextEpoch);
            checkpoint(nextEpoch++, true, false, nowNs);
            syncStats.finish(metrics.lastPauseNs, "paused copy");
            return 1;
        }
        checkpoint(nextEpoch++, false, false, nowNs);
        return 1;
    }

    private void startPreCopy() {
        // Writes made before the image is read are in the image: close them under a number of their own.
        long discarded = diskLog == null ? -1 : nextEpoch++;
        long epoch = nextEpoch++;
        long pages = domain.memory().pageCount();
        LOG.info("{}: backup connected; epoch {} is a full checkpoint, pre-copied while the guest runs",
                domain.name(), epoch);
        // Start a fresh dirty interval: round 1 sends everything, later rounds what changed since.
        domain.pause();
        try {
            tracker.collect();
            if (diskLog != null) {
                diskLog.closeEpoch(discarded);
            }
        } finally {
            domain.resume();
        }
        preCopy = new PreCopy(epoch, link.generation(), pages, preCopyRules);
        preCopy.submitted(pages);
        syncStats.round(pages);
        sink.submitRound(new LiveRound(epoch, link.generation(), DirtyPageSet.all(pages), true));
    }

    private int preCopyStep(long nowNs) {
        if (link.generation() != preCopy.linkGeneration) {
            preCopy = null;
            return 0;
        }
        if (sink.roundsCompleted() < preCopy.roundsSubmitted()) {
            return 0; // the previous round is still being sent; its dirty set keeps growing meanwhile
        }
        domain.pause();
        boolean paused = true;
        try {
            DirtyPageSet dirty = tracker.collect();
            String stop = preCopy.stopReason(dirty.count());
            if (stop != null) {
                paused = false; // checkpoint() below resumes
                long epoch = preCopy.epoch;
                preCopy = null;
                checkpointPaused(epoch, dirty, true, nowNs);
                syncStats.finish(metrics.lastPauseNs, stop);
                LOG.info("{}: pre-copy done ({}); final pause {} us for {} pages", domain.name(), stop,
                        metrics.lastPauseNs / 1000, dirty.count());
                return 1;
            }
            domain.resume();
            paused = false;
            // The tracker reuses its set at the next collect, which only this thread calls: copy it after resume.
            DirtyPageSet round = new DirtyPageSet(dirty.pageCount());
            round.addAll(dirty);
            preCopy.submitted(round.count());
            syncStats.round(round.count());
            sink.submitRound(new LiveRound(preCopy.epoch, preCopy.linkGeneration, round, false));
            return 1;
        } finally {
            if (paused) {
                domain.resume();
            }
        }
    }

    private void checkpoint(long epoch, boolean full, boolean continuesPreCopy, long nowNs) {
        long pauseStartNs = clock.nanoTime();
        domain.pause();
        long suspendedNs = clock.nanoTime();
        beginCapture();
        long capturingNs = clock.nanoTime();
        DirtyPageSet dirty;
        try {
            // Collect even for a full checkpoint: it starts the next interval.
            dirty = tracker.collect();
            if (full) {
                dirty = DirtyPageSet.all(domain.memory().pageCount());
            }
        } catch (RuntimeException e) {
            endCapture(e);
            domain.resume();
            throw e;
        }
        finishPaused(epoch, dirty, full, continuesPreCopy, nowNs, pauseStartNs, suspendedNs, capturingNs);
    }

    /** The final part of a pre-copy: the guest is already paused and {@code dirty} collected. */
    private void checkpointPaused(long epoch, DirtyPageSet dirty, boolean full, long nowNs) {
        long nowPausedNs = clock.nanoTime();
        beginCapture();
        long capturingNs = clock.nanoTime();
        finishPaused(epoch, dirty, full, true, nowNs, nowPausedNs, nowPausedNs, capturingNs);
    }

    /**
     * Right after the pause, so the hypervisor writes the device state while the pages are collected and
     * copied (a QEMU domain's takes milliseconds, about as long as a RAM scan). A capture that cannot even
     * start leaves nothing in flight: resume and give up this epoch.
     */
    private void beginCapture() {
        try {
            domain.beginDeviceStateCapture();
        } catch (RuntimeException e) {
            domain.resume();
            throw e;
        }
    }

    /** A capture begun ends before the resume, even when the epoch failed: the next one begins another. */
    private void endCapture(RuntimeException failure) {
        try {
            domain.captureDeviceState();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private void finishPaused(long epoch, DirtyPageSet dirty, boolean full, boolean continuesPreCopy, long nowNs,
                              long pauseStartNs, long suspendedNs, long capturingNs) {
        Staging staging = pool.acquire();
        // Only clock reads inside the pause; the phases are recorded after resume.
        long collectedNs = capturingNs;
        long copiedNs = capturingNs;
        long capturedNs = capturingNs;
        long resumeStartNs;
        long resumedNs;
        boolean captureEnded = false;
        try {
            collectedNs = clock.nanoTime();
            staging.copyFrom(domain.memory().segment(), dirty);
            copiedNs = clock.nanoTime();
            captureEnded = true;
            staging.deviceState = domain.captureDeviceState();
            staging.diskWrites = diskLog == null ? null : diskLog.closeEpoch(epoch);
            output.barrier(epoch);
            capturedNs = clock.nanoTime();
        } catch (RuntimeException e) {
            if (!captureEnded) {
                endCapture(e);
            }
            throw e;
        } finally {
            resumeStartNs = clock.nanoTime();
            domain.resume();
            resumedNs = clock.nanoTime();
        }
        PausePhases phases = metrics.phases;
        phases.record(PausePhases.Phase.SUSPEND, suspendedNs - pauseStartNs);
        phases.record(PausePhases.Phase.COLLECT, collectedNs - capturingNs);
        phases.record(PausePhases.Phase.COPY, copiedNs - collectedNs);
        // What the pause pays for the device state: starting the capture, and the wait left once the pages
        // are copied. The capture's work overlapping collect and copy is not counted twice.
        phases.record(PausePhases.Phase.DEVICE_STATE, (capturingNs - suspendedNs) + (capturedNs - copiedNs));
        phases.record(PausePhases.Phase.RESUME, resumedNs - resumeStartNs);
        staging.epoch = epoch;
        staging.full = full;
        staging.continuesPreCopy = continuesPreCopy;
        staging.linkGeneration = link.generation();
        staging.pauseStartNs = pauseStartNs;
        staging.resumedNs = resumedNs;
        metrics.recordPause(resumedNs - pauseStartNs, staging.pageCount());
        metrics.checkpointsTaken.increment();
        if (full) {
            metrics.fullCheckpoints.increment();
        } else {
            dirtyStats.record(staging.pageCount(), Math.max(1, nowNs - lastCheckpointNs));
            // After resume; the set stays valid until the next collect, which only this thread makes.
            workingSet.record(dirty);
            metrics.dirtyRates.publish(dirtyStats, domain.memory().pageSizeBytes(), workingSet.pagesInEveryEpoch());
        }
        lastCheckpointNs = nowNs;
        // The guest runs a whole interval between pauses, however long the pause took (Remus's epoch): a
        // scan-tracked guest pausing for tens of milliseconds still makes progress at short intervals.
        nextCheckpointNs = nowNs + (resumedNs - pauseStartNs) + epochIntervalNs;
        progress.onStaged(epoch, resumedNs);
        sink.submit(staging);
        if (staging.diskWrites != null && staging.diskWrites.overflowed()) {
            link.drop("the disk changes of epoch " + epoch + " outgrew the write log; the backup's disk needs a full copy");
        }
    }

    /** The epoch the next checkpoint will get. */
    public long nextEpoch() {
        return nextEpoch;
    }

    /** True while a live pre-copy is under way. */
    public boolean preCopying() {
        return preCopy != null;
    }
}
