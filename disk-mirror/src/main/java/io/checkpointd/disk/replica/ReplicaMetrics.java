package io.checkpointd.disk.replica;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The meters of one {@link DiskReplica} (Prometheus names):
 * <ul>
 *   <li>{@code checkpointd_disk_replica_buffered_bytes}: changes of uncommitted epochs held in memory (gauge);</li>
 *   <li>{@code checkpointd_disk_replica_spilled_bytes_total}: bytes written to spill logs;</li>
 *   <li>{@code checkpointd_disk_replica_applied_bytes_total}: data bytes written into the replica;</li>
 *   <li>{@code checkpointd_disk_replica_discarded_bytes_total}: changes of epochs that never committed;</li>
 *   <li>{@code checkpointd_disk_replica_last_applied_epoch}: the epoch the replica holds (gauge, -1 for none).</li>
 * </ul>
 * Written by the replica's owner thread, read by whichever thread scrapes.
 */
final class ReplicaMetrics implements AutoCloseable {
    static final String BUFFERED_BYTES = "checkpointd.disk.replica.buffered.bytes";
    static final String SPILLED_BYTES = "checkpointd.disk.replica.spilled.bytes";
    static final String APPLIED_BYTES = "checkpointd.disk.replica.applied.bytes";
    static final String DISCARDED_BYTES = "checkpointd.disk.replica.discarded.bytes";
    static final String LAST_APPLIED_EPOCH = "checkpointd.disk.replica.last.applied.epoch";

    private final MeterRegistry registry;
    private final AtomicLong bufferedBytes = new AtomicLong();
    private final AtomicLong lastAppliedEpoch = new AtomicLong(DiskReplica.NO_EPOCH);
    private final Counter spilledBytes;
    private final Counter appliedBytes;
    private final Counter discardedBytes;
    private final List<Meter> meters;

    ReplicaMetrics(MeterRegistry registry, Iterable<Tag> tags) {
        this.registry = registry;
        Tags base = Tags.of(tags);
        Gauge buffered = Gauge.builder(BUFFERED_BYTES, bufferedBytes, AtomicLong::get)
                .description("Bytes of uncommitted disk changes the backup holds in memory")
                .baseUnit(BaseUnits.BYTES).tags(base).register(registry);
        Gauge lastApplied = Gauge.builder(LAST_APPLIED_EPOCH, lastAppliedEpoch, AtomicLong::get)
                .description("The epoch the disk replica holds (-1: none yet)").tags(base).register(registry);
        spilledBytes = bytes(SPILLED_BYTES, "Bytes of disk changes written to spill logs", base);
        appliedBytes = bytes(APPLIED_BYTES, "Data bytes written into the disk replica on commit", base);
        discardedBytes = bytes(DISCARDED_BYTES, "Bytes of disk changes of epochs that never committed", base);
        meters = List.of(buffered, lastApplied, spilledBytes, appliedBytes, discardedBytes);
    }

    private Counter bytes(String name, String description, Tags base) {
        return Counter.builder(name).description(description).baseUnit(BaseUnits.BYTES).tags(base).register(registry);
    }

    void buffered(long bytes) {
        bufferedBytes.set(bytes);
    }

    void spilled(long bytes) {
        spilledBytes.increment(bytes);
    }

    void applied(long bytes) {
        appliedBytes.increment(bytes);
    }

    void discarded(long bytes) {
        discardedBytes.increment(bytes);
    }

    void lastApplied(long epoch) {
        lastAppliedEpoch.set(epoch);
    }

    @Override
    public void close() {
        meters.forEach(registry::remove);
    }
}
