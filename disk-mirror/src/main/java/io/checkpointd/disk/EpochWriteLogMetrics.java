package io.checkpointd.disk;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The meters of one {@link EpochWriteLog} (Prometheus names):
 * <ul>
 *   <li>{@code checkpointd_disk_writelog_held_bytes}: bytes the open epoch holds (gauge);</li>
 *   <li>{@code checkpointd_disk_writelog_epoch_bytes}: bytes held per closed epoch (summary: count, sum, max);</li>
 *   <li>{@code checkpointd_disk_writelog_overflowed_epochs_total}: epochs that exceeded the budget, each
 *       one a full disk resynchronisation for the epoch loop;</li>
 *   <li>{@code checkpointd_disk_writelog_dropped_bytes_total}: bytes freed or never held because of overflow.</li>
 * </ul>
 */
final class EpochWriteLogMetrics implements AutoCloseable {
    static final String HELD_BYTES = "checkpointd.disk.writelog.held.bytes";
    static final String EPOCH_BYTES = "checkpointd.disk.writelog.epoch.bytes";
    static final String OVERFLOWED_EPOCHS = "checkpointd.disk.writelog.overflowed.epochs";
    static final String DROPPED_BYTES = "checkpointd.disk.writelog.dropped.bytes";

    private final MeterRegistry registry;
    private final AtomicLong heldBytes = new AtomicLong();
    private final DistributionSummary epochBytes;
    private final Counter overflowedEpochs;
    private final Counter droppedBytes;
    private final List<Meter> meters;

    EpochWriteLogMetrics(MeterRegistry registry, Iterable<Tag> tags) {
        this.registry = registry;
        Tags base = Tags.of(tags);
        Gauge held = Gauge.builder(HELD_BYTES, heldBytes, AtomicLong::get)
                .description("Bytes of disk changes the open epoch holds until it is closed")
                .baseUnit(BaseUnits.BYTES).tags(base).register(registry);
        epochBytes = DistributionSummary.builder(EPOCH_BYTES)
                .description("Bytes of disk changes per closed epoch")
                .baseUnit(BaseUnits.BYTES).tags(base).register(registry);
        overflowedEpochs = Counter.builder(OVERFLOWED_EPOCHS)
                .description("Epochs whose disk changes exceeded the write log's budget (full resync needed)")
                .tags(base).register(registry);
        droppedBytes = Counter.builder(DROPPED_BYTES)
                .description("Bytes of disk changes dropped because their epoch overflowed")
                .baseUnit(BaseUnits.BYTES).tags(base).register(registry);
        meters = List.of(held, epochBytes, overflowedEpochs, droppedBytes);
    }

    void held(long bytes) {
        heldBytes.set(bytes);
    }

    void closed(long bytes) {
        epochBytes.record(bytes);
    }

    void overflowed(long bytesFreed) {
        overflowedEpochs.increment();
        droppedBytes.increment(bytesFreed);
    }

    void droppedAfterOverflow(long bytes) {
        droppedBytes.increment(bytes);
    }

    @Override
    public void close() {
        meters.forEach(registry::remove);
    }
}
