package io.checkpointd.config;

/**
 * When a silent peer counts as dead. Heartbeats go both on the replication connection and on a separate
 * UDP channel, so a long checkpoint transfer holding the TCP stream is not mistaken for death.
 *
 * <p>Defaults: a heartbeat every 100 ms, suspect after 300 ms, dead after 1 s. Remus first used 500 ms and
 * found it too aggressive on a loaded host, so moved to 1 s; at 100 ms per heartbeat that is ten missed
 * beats before a failover, while detection stays near a second.
 *
 * @param heartbeatIntervalNs time between heartbeats; 10ms to 10s
 * @param suspectAfterNs      silence after which the peer is suspect (logged, no action); above the interval
 * @param deadAfterNs         silence after which the peer is dead: the backup fails over, the primary drops
 *                            protection; above suspect-after, at most 5 minutes
 */
public record FailureDetectorConfig(long heartbeatIntervalNs, long suspectAfterNs, long deadAfterNs) {

    static final Range INTERVAL_NS = Range.durationNs(10_000_000L, 10_000_000_000L);
    static final Range SUSPECT_NS = Range.durationNs(10_000_000L, 300_000_000_000L);
    static final Range DEAD_NS = Range.durationNs(20_000_000L, 300_000_000_000L);

    public static FailureDetectorConfig defaults() {
        return new FailureDetectorConfig(100_000_000L, 300_000_000L, 1_000_000_000L);
    }

    public FailureDetectorConfig withHeartbeatIntervalNs(long heartbeatIntervalNs) {
        return new FailureDetectorConfig(heartbeatIntervalNs, suspectAfterNs, deadAfterNs);
    }

    public FailureDetectorConfig withSuspectAfterNs(long suspectAfterNs) {
        return new FailureDetectorConfig(heartbeatIntervalNs, suspectAfterNs, deadAfterNs);
    }

    public FailureDetectorConfig withDeadAfterNs(long deadAfterNs) {
        return new FailureDetectorConfig(heartbeatIntervalNs, suspectAfterNs, deadAfterNs);
    }
}
