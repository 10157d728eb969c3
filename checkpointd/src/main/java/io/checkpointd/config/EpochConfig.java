package io.checkpointd.config;

/**
 * The checkpoint rhythm.
 *
 * @param intervalNs  time from one checkpoint's pause to the next; 1ms to 10s. Shorter means less output
 *                    delay and less lost work, at the cost of more pauses.
 * @param maxInFlight checkpoints sent but not yet acknowledged before the epoch loop waits; 1 to 64
 */
public record EpochConfig(long intervalNs, int maxInFlight) {

    static final Range INTERVAL_NS = Range.durationNs(1_000_000L, 10_000_000_000L);
    static final Range MAX_IN_FLIGHT = Range.count(1, 64);

    public static EpochConfig defaults() {
        return new EpochConfig(50_000_000L, 2);
    }

    public EpochConfig withIntervalNs(long intervalNs) {
        return new EpochConfig(intervalNs, maxInFlight);
    }

    public EpochConfig withMaxInFlight(int maxInFlight) {
        return new EpochConfig(intervalNs, maxInFlight);
    }
}
