package io.checkpointd.replication.wire;

/**
 * Backup to primary: whether the backup holds the guest's domain created and paused, waiting for its state
 * (a warm standby), so that a failover only has to load the last checkpoint. Sent when that changes, and
 * right after HELLO_ACK by a backup whose driver makes standbys. The primary shows it in its status; a
 * primary never told (the sim driver needs no standby) shows it as unknown.
 *
 * @param ready true while a standby is ready on the backup
 */
public record Standby(boolean ready) implements Frame {
    @Override
    public long epoch() {
        return 0;
    }
}
