package io.checkpointd.primary;

import io.checkpointd.dirty.DirtyStats;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The guest's dirtying, as gauges: the epoch loop owns {@link DirtyStats} (not thread-safe) and publishes a
 * snapshot here after each epoch; scrapes read the snapshot.
 */
final class DirtyRateMetrics {
    private volatile double ratePagesPerSecond;
    private volatile double rateBytesPerSecond;
    private volatile double meanPages;
    private volatile double stddevPages;
    private volatile double workingSetPages;

    DirtyRateMetrics(MeterRegistry registry, String domain, String tracker) {
        Gauge.builder("checkpointd.dirty.rate.pages.per.second", this, m -> m.ratePagesPerSecond).tag("domain", domain)
                .tag("tracker", tracker).description("Pages dirtied per second in the last epoch").register(registry);
        Gauge.builder("checkpointd.dirty.rate", this, m -> m.rateBytesPerSecond).baseUnit("bytes.per.second")
                .tag("domain", domain).tag("tracker", tracker)
                .description("Bytes of guest RAM dirtied per second in the last epoch").register(registry);
        Gauge.builder("checkpointd.dirty.pages.mean", this, m -> m.meanPages).tag("domain", domain)
                .description("Running mean of dirty pages per epoch").register(registry);
        Gauge.builder("checkpointd.dirty.pages.stddev", this, m -> m.stddevPages).tag("domain", domain)
                .description("Running standard deviation (Welford) of dirty pages per epoch").register(registry);
        Gauge.builder("checkpointd.dirty.working.set.pages", this, m -> m.workingSetPages).tag("domain", domain)
                .description("Writable working set: pages dirtied in every one of the last epochs").register(registry);
    }

    /** Called by the epoch loop after recording an epoch. */
    void publish(DirtyStats stats, int pageSizeBytes, long workingSet) {
        ratePagesPerSecond = stats.lastRatePagesPerSecond();
        rateBytesPerSecond = stats.lastRatePagesPerSecond() * pageSizeBytes;
        meanPages = stats.meanDirtyPages();
        stddevPages = stats.epochs() < 2 ? 0 : stats.populationStddevDirtyPages();
        workingSetPages = workingSet;
    }
}
