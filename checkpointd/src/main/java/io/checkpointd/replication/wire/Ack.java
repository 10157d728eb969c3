package io.checkpointd.replication.wire;

/** Backup to primary: checkpoint {@code epoch} is committed (applied to the replica). */
public record Ack(long epoch) implements Frame {
}
