package io.checkpointd.primary;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;

/**
 * The primary's measurements, registered once in the registry handed in. HdrHistograms keep the exact
 * distributions for run summaries; Micrometer carries the same numbers to Prometheus.
 */
public final class PrimaryMetrics {
    private static final long MAX_TRACKED_NS = TimeUnit.SECONDS.toNanos(60);

    final Counter checkpointsTaken;
    final Counter checkpointsCommitted;
    final Counter fullCheckpoints;
    final Counter epochStalls;
    final Counter bytesRaw;
    final Counter bytesWire;
    final Counter abandonedCheckpoints;
    final Timer pauseTimer;
    final Timer ackTimer;
    final DistributionSummary dirtyPages;
    final PausePhases phases;
    final AtomicLong replicationLagEpochs = new AtomicLong();
    final AtomicLong protectedState = new AtomicLong();
    final AtomicLong lastCommittedEpoch = new AtomicLong();
    /** What the backup last said of its standby: 1 ready, 0 not, -1 never said (none connected, or sim). */
    final AtomicLong backupStandby = new AtomicLong(-1);
    final Histogram pauseNs = new SynchronizedHistogram(MAX_TRACKED_NS, 3);
    final Histogram ackNs = new SynchronizedHistogram(MAX_TRACKED_NS, 3);

    final DirtyRateMetrics dirtyRates;

    public PrimaryMetrics(MeterRegistry registry, String domain) {
        this(registry, domain, "exact");
    }

    /** @param tracker the dirty tracker in use, a label on the dirty-rate gauges */
    public PrimaryMetrics(MeterRegistry registry, String domain, String tracker) {
        phases = new PausePhases(registry, domain);
        dirtyRates = new DirtyRateMetrics(registry, domain, tracker);
        checkpointsTaken = Counter.builder("checkpointd.checkpoints.taken").tag("domain", domain)
                .description("Checkpoints taken (guest paused, dirty pages staged)").register(registry);
        checkpointsCommitted = Counter.builder("checkpointd.checkpoints").tag("domain", domain)
                .description("Checkpoints acknowledged by the backup").register(registry);
        fullCheckpoints = Counter.builder("checkpointd.checkpoints.full").tag("domain", domain)
                .description("Checkpoints that carried every page (initial sync and re-syncs)").register(registry);
        epochStalls = Counter.builder("checkpointd.epoch.stalls").tag("domain", domain)
                .description("Times the epoch loop waited because the backup was max-in-flight checkpoints behind")
                .register(registry);
        abandonedCheckpoints = Counter.builder("checkpointd.checkpoints.abandoned").tag("domain", domain)
                .description("Checkpoints not fully sent because the backup connection went away").register(registry);
        bytesRaw = Counter.builder("checkpointd.replication.raw").baseUnit("bytes").tag("domain", domain)
                .description("Checkpoint bytes before compression (pages + device state)").register(registry);
        bytesWire = Counter.builder("checkpointd.replication.wire").baseUnit("bytes").tag("domain", domain)
                .description("Checkpoint bytes sent on the replication connection, frame headers included")
                .register(registry);
        // Buckets from 10 us: a small guest pauses for well under a millisecond, and Micrometer's default
        // floor (1 ms) would put every such pause in the first bucket and blind the quantiles.
        pauseTimer = Timer.builder("checkpointd.pause").tag("domain", domain)
                .description("Time the guest was paused per checkpoint").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(10_000)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        // From 1 ms (an ACK needs a transfer and an apply) to a minute (a backup slow to answer, not yet dead).
        ackTimer = Timer.builder("checkpointd.ack.latency").tag("domain", domain)
                .description("From resume to the backup's acknowledgement of that checkpoint")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(1))
                .register(registry);
        dirtyPages = DistributionSummary.builder("checkpointd.dirty.pages").tag("domain", domain)
                .description("Pages dirtied per epoch").register(registry);
        Gauge.builder("checkpointd.replication.lag.epochs", replicationLagEpochs, AtomicLong::get)
                .tag("domain", domain).description("Checkpoints taken but not yet acknowledged").register(registry);
        Gauge.builder("checkpointd.protected", protectedState, AtomicLong::get).tag("domain", domain)
                .description("1 while a backup holds a committed checkpoint and output is held, else 0")
                .register(registry);
        Gauge.builder("checkpointd.last.committed.epoch", lastCommittedEpoch, AtomicLong::get).tag("domain", domain)
                .description("Newest checkpoint the backup has acknowledged").register(registry);
        Gauge.builder("checkpointd.backup.standby.ready", backupStandby, AtomicLong::get).tag("domain", domain)
                .description("1 while the backup holds the domain created and paused (a failover only loads the "
                        + "last checkpoint), 0 when it would have to create it first, -1 when it has not said")
                .register(registry);
    }

    /** The last pause's length; written and read by the epoch loop only. */
    long lastPauseNs;

    void recordPause(long pauseNanos, long dirty) {
        lastPauseNs = pauseNanos;
        pauseTimer.record(pauseNanos, TimeUnit.NANOSECONDS);
        pauseNs.recordValue(Math.min(pauseNanos, MAX_TRACKED_NS));
        dirtyPages.record(dirty);
    }

    void recordAck(long ackNanos) {
        ackTimer.record(ackNanos, TimeUnit.NANOSECONDS);
        ackNs.recordValue(Math.min(Math.max(ackNanos, 0), MAX_TRACKED_NS));
    }

    public Histogram pauseHistogram() {
        return pauseNs;
    }

    public PausePhases phases() {
        return phases;
    }

    public Histogram ackHistogram() {
        return ackNs;
    }


    public long committed() {
        return (long) checkpointsCommitted.count();
    }

    public long taken() {
        return (long) checkpointsTaken.count();
    }

    public long bytesRaw() {
        return (long) bytesRaw.count();
    }

    public long bytesWire() {
        return (long) bytesWire.count();
    }

    public long stalls() {
        return (long) epochStalls.count();
    }

    /** Checkpoints taken and not yet acknowledged. */
    public long replicationLag() {
        return replicationLagEpochs.get();
    }

    /** The backup's standby as it last reported it: true ready, false not, null unknown. */
    public Boolean backupStandbyReady() {
        long value = backupStandby.get();
        return value < 0 ? null : value == 1;
    }

    /** True while the backup holds a committed checkpoint of the running guest. */
    public boolean isProtected() {
        return protectedState.get() == 1;
    }

    /** The newest epoch the backup acknowledged; 0 before the first. */
    public long lastCommittedEpoch() {
        return lastCommittedEpoch.get();
    }
}
