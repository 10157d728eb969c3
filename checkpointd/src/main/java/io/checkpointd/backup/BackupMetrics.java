package io.checkpointd.backup;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.atomic.AtomicLong;

/** The backup's measurements. */
public final class BackupMetrics {
    final Counter committed;
    final Counter discarded;
    final Counter bytesReceived;
    final Timer applyTimer;
    final Counter failovers;
    final Counter failoverFailures;
    final Timer failoverRestore;
    final AtomicLong lastCommittedEpoch = new AtomicLong();

    public BackupMetrics(MeterRegistry registry) {
        committed = Counter.builder("checkpointd.backup.checkpoints.committed")
                .description("Checkpoints received in full, verified and applied to the replica").register(registry);
        discarded = Counter.builder("checkpointd.backup.checkpoints.discarded")
                .description("Partial or corrupt checkpoints thrown away (the replica kept the previous one)")
                .register(registry);
        bytesReceived = Counter.builder("checkpointd.backup.received").baseUnit("bytes")
                .description("Bytes received on replication connections").register(registry);
        applyTimer = Timer.builder("checkpointd.backup.apply")
                .description("Time to apply a verified checkpoint to the replica").register(registry);
        failovers = Counter.builder("checkpointd.failovers")
                .description("Guests resumed on this host because their primary was declared dead").register(registry);
        failoverFailures = Counter.builder("checkpointd.failover.failures")
                .description("Failovers that could not start the guest").register(registry);
        failoverRestore = Timer.builder("checkpointd.failover.restore")
                .description("From declaring the primary dead to the guest running here").register(registry);
        Gauge.builder("checkpointd.backup.last.committed.epoch", lastCommittedEpoch, AtomicLong::get)
                .description("Newest checkpoint the replica holds").register(registry);
    }

    public long committed() {
        return (long) committed.count();
    }

    public long discarded() {
        return (long) discarded.count();
    }

    public long bytesReceived() {
        return (long) bytesReceived.count();
    }

    public long failovers() {
        return (long) failovers.count();
    }

    public long lastCommittedEpoch() {
        return lastCommittedEpoch.get();
    }
}
