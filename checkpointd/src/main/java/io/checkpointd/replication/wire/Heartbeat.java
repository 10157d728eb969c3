package io.checkpointd.replication.wire;

/**
 * Liveness, both ways.
 *
 * @param sequence  increases by one per heartbeat sent on a connection
 * @param sentNanos the sender's monotonic clock when sent; echoed values give a round-trip time
 * @param echoNanos the {@code sentNanos} of the last heartbeat received from the peer, 0 if none
 */
public record Heartbeat(long sequence, long sentNanos, long echoNanos) implements Frame {
    @Override
    public long epoch() {
        return 0;
    }
}
