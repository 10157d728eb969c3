package io.checkpointd.primary;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;

/**
 * Where the paused time goes, phase by phase: the breakdown a researcher needs to see which part of a
 * pause grows with what (copy with dirty pages, device state with devices, suspend with vCPUs).
 */
public final class PausePhases {
    /** The paused section's steps, in order. */
    public enum Phase {
        SUSPEND("suspend"), COLLECT("collect"), COPY("copy"), DEVICE_STATE("device_state"), RESUME("resume");

        final String label;

        Phase(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private static final long MAX_TRACKED_NS = TimeUnit.SECONDS.toNanos(60);

    private final Map<Phase, Timer> timers = new EnumMap<>(Phase.class);
    private final Map<Phase, Histogram> histograms = new EnumMap<>(Phase.class);

    PausePhases(MeterRegistry registry, String domain) {
        for (Phase phase : Phase.values()) {
            timers.put(phase, Timer.builder("checkpointd.pause.phase").tag("domain", domain).tag("phase", phase.label)
                    .description("Time spent in one step of the paused section").register(registry));
            histograms.put(phase, new SynchronizedHistogram(MAX_TRACKED_NS, 3));
        }
    }

    void record(Phase phase, long nanos) {
        timers.get(phase).record(nanos, TimeUnit.NANOSECONDS);
        histograms.get(phase).recordValue(Math.min(Math.max(nanos, 0), MAX_TRACKED_NS));
    }

    public Histogram histogram(Phase phase) {
        return histograms.get(phase);
    }
}
