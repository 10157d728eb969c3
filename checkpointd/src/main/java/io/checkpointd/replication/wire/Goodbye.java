package io.checkpointd.replication.wire;

/**
 * Primary to backup: protection ends on purpose (the operator stopped the primary). The backup keeps its
 * replica but does not fail over when the primary then falls silent.
 */
public record Goodbye() implements Frame {
    @Override
    public long epoch() {
        return 0;
    }
}
