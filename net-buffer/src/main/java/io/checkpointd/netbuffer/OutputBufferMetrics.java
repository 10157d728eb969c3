package io.checkpointd.netbuffer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The meters of one {@link OutputBuffer}. Written by the buffer's owner thread, read by whichever thread
 * scrapes the registry.
 */
final class OutputBufferMetrics implements AutoCloseable {
    static final String HELD_FRAMES = "checkpointd.netbuffer.held.frames";
    static final String HELD_BYTES = "checkpointd.netbuffer.held.bytes";
    static final String RELEASED_FRAMES = "checkpointd.netbuffer.released.frames";
    static final String RELEASED_BYTES = "checkpointd.netbuffer.released.bytes";
    static final String DROPPED_FRAMES = "checkpointd.netbuffer.dropped.frames";
    static final String DROPPED_BYTES = "checkpointd.netbuffer.dropped.bytes";
    static final String RELEASE_LATENCY = "checkpointd.netbuffer.release.latency";

    /** Tag key of the dropped meters: {@link #REASON_FULL} or {@link #REASON_SHUTDOWN}. */
    static final String REASON = "reason";
    static final String REASON_FULL = "full";
    static final String REASON_SHUTDOWN = "shutdown";

    private final MeterRegistry registry;
    // The owner thread keeps the real counts; these copies exist so a scrape thread can read them safely.
    private final AtomicLong heldFrames = new AtomicLong();
    private final AtomicLong heldBytes = new AtomicLong();
    private final Counter releasedFrames;
    private final Counter releasedBytes;
    private final Counter droppedFullFrames;
    private final Counter droppedFullBytes;
    private final Counter droppedShutdownFrames;
    private final Counter droppedShutdownBytes;
    private final Timer releaseLatency;
    private final List<Meter> meters;

    OutputBufferMetrics(MeterRegistry registry, Iterable<Tag> tags) {
        this.registry = registry;
        Tags base = Tags.of(tags);
        Gauge heldFramesGauge = Gauge.builder(HELD_FRAMES, heldFrames, AtomicLong::get)
                .description("Guest frames held until the backup acknowledges their checkpoint")
                .tags(base).register(registry);
        Gauge heldBytesGauge = Gauge.builder(HELD_BYTES, heldBytes, AtomicLong::get)
                .description("Bytes of guest frames held until the backup acknowledges their checkpoint")
                .baseUnit(BaseUnits.BYTES).tags(base).register(registry);
        releasedFrames = Counter.builder(RELEASED_FRAMES)
                .description("Frames released to the network")
                .tags(base).register(registry);
        releasedBytes = Counter.builder(RELEASED_BYTES)
                .description("Bytes of frames released to the network")
                .baseUnit(BaseUnits.BYTES).tags(base).register(registry);
        droppedFullFrames = dropped(DROPPED_FRAMES, null, base, REASON_FULL);
        droppedFullBytes = dropped(DROPPED_BYTES, BaseUnits.BYTES, base, REASON_FULL);
        droppedShutdownFrames = dropped(DROPPED_FRAMES, null, base, REASON_SHUTDOWN);
        droppedShutdownBytes = dropped(DROPPED_BYTES, BaseUnits.BYTES, base, REASON_SHUTDOWN);
        // Latency is at least one epoch (25-200 ms) plus the round trip; buckets from 1 ms to a minute
        // also cover a backup that is slow for seconds before it is declared dead.
        releaseLatency = Timer.builder(RELEASE_LATENCY)
                .description("Time a frame was held, from add to release")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(1))
                .tags(base).register(registry);
        meters = List.of(heldFramesGauge, heldBytesGauge, releasedFrames, releasedBytes, droppedFullFrames,
                droppedFullBytes, droppedShutdownFrames, droppedShutdownBytes, releaseLatency);
    }

    private Counter dropped(String name, String baseUnit, Tags base, String reason) {
        return Counter.builder(name)
                .description("Frames or bytes freed without being sent: buffer full, or shut down while held")
                .baseUnit(baseUnit).tags(base).tag(REASON, reason).register(registry);
    }

    void held(long frames, long bytes) {
        // Single writer: an ordered store is enough for readers and avoids a full fence per frame.
        heldFrames.lazySet(frames);
        heldBytes.lazySet(bytes);
    }

    void released(int bytes, long heldNs) {
        releasedFrames.increment();
        releasedBytes.increment(bytes);
        releaseLatency.record(heldNs, TimeUnit.NANOSECONDS);
    }

    void droppedFull(int bytes) {
        droppedFullFrames.increment();
        droppedFullBytes.increment(bytes);
    }

    void droppedShutdown(int bytes) {
        droppedShutdownFrames.increment();
        droppedShutdownBytes.increment(bytes);
    }

    /** Unregisters the meters, so a new buffer with the same tags registers fresh ones instead of these. */
    @Override
    public void close() {
        meters.forEach(registry::remove);
    }
}
