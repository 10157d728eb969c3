package io.checkpointd.failure;

import java.util.concurrent.TimeUnit;

/**
 * Default heartbeat timing, for the config record to fall back on.
 *
 * <p>Why these numbers: Xen's Remus found a 500 ms timeout too aggressive and settled on 1 s (the backup's
 * restore code waits {@code HEARTBEAT_MS 1000} for the checkpoint stream). With a heartbeat every 100 ms, a
 * 1 s dead threshold is ten missed beats in a row, which a loaded host (guests competing for the CPU, the
 * replication daemon descheduled for a few hundred ms) does not produce by accident, while failover still
 * starts about 1 s after the primary dies. Suspect at 300 ms (three missed beats) is an early warning for logs
 * and metrics; nothing acts on it.
 */
public final class HeartbeatDefaults {
    /** Time between heartbeats sent. */
    public static final long INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Silence after which the peer is {@link PeerState#SUSPECT}. */
    public static final long SUSPECT_AFTER_NS = TimeUnit.MILLISECONDS.toNanos(300);
    /** Silence after which the peer is {@link PeerState#DEAD}. */
    public static final long DEAD_AFTER_NS = TimeUnit.SECONDS.toNanos(1);

    private HeartbeatDefaults() {
    }
}
