package io.checkpointd.config;

import java.util.List;

/**
 * The checkpoint rhythm.
 *
 * @param intervalNs  time from one checkpoint's pause to the next; 1ms to 10s. Shorter means less output
 *                    delay and less lost work, at the cost of more pauses.
 * @param maxInFlight checkpoints sent but not yet acknowledged before the epoch loop waits; 1 to 64
 * @param fullSync    how a full checkpoint (first sync, re-sync after the backup came back) is taken:
 *                    {@link #LIVE} copies RAM while the guest runs, in rounds, then pauses only for what
 *                    changed meanwhile; {@link #PAUSED} copies all of RAM in one pause (simple, long)
 */
public record EpochConfig(long intervalNs, int maxInFlight, String fullSync) {

    public static final String LIVE = "live";
    public static final String PAUSED = "paused";
    static final List<String> FULL_SYNC_MODES = List.of(LIVE, PAUSED);
    static final Range INTERVAL_NS = Range.durationNs(1_000_000L, 10_000_000_000L);
    static final Range MAX_IN_FLIGHT = Range.count(1, 64);

    public EpochConfig(long intervalNs, int maxInFlight) {
        this(intervalNs, maxInFlight, LIVE);
    }

    public static EpochConfig defaults() {
        return new EpochConfig(50_000_000L, 2, LIVE);
    }

    public boolean liveFullSync() {
        return LIVE.equals(fullSync);
    }

    public EpochConfig withIntervalNs(long intervalNs) {
        return new EpochConfig(intervalNs, maxInFlight, fullSync);
    }

    public EpochConfig withMaxInFlight(int maxInFlight) {
        return new EpochConfig(intervalNs, maxInFlight, fullSync);
    }

    public EpochConfig withFullSync(String fullSync) {
        return new EpochConfig(intervalNs, maxInFlight, fullSync);
    }
}
