package io.checkpointd.replication.wire;

/**
 * Backup to primary, answer to {@link Hello}.
 *
 * @param protocolVersion     the backup's protocol version
 * @param lastCommittedEpoch  the newest checkpoint the backup holds, 0 if none
 * @param rejection           empty when accepted; otherwise why the backup refuses (the primary logs it)
 * @param heartbeatPort       UDP port of the backup's heartbeat channel, 0 if none
 */
public record HelloAck(int protocolVersion, long lastCommittedEpoch, String rejection, int heartbeatPort)
        implements Frame {

    public HelloAck(int protocolVersion, long lastCommittedEpoch, String rejection) {
        this(protocolVersion, lastCommittedEpoch, rejection, 0);
    }

    public boolean accepted() {
        return rejection.isEmpty();
    }

    @Override
    public long epoch() {
        return lastCommittedEpoch;
    }
}
