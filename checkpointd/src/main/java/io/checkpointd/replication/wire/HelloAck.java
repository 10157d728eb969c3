package io.checkpointd.replication.wire;

/**
 * Backup to primary, answer to {@link Hello}.
 *
 * @param protocolVersion     the backup's protocol version
 * @param lastCommittedEpoch  the newest checkpoint the backup holds, 0 if none
 * @param rejection           empty when accepted; otherwise why the backup refuses (the primary logs it and stops)
 */
public record HelloAck(int protocolVersion, long lastCommittedEpoch, String rejection) implements Frame {
    public boolean accepted() {
        return rejection.isEmpty();
    }

    @Override
    public long epoch() {
        return lastCommittedEpoch;
    }
}
