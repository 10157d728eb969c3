package io.checkpointd.disk.replica;

import java.io.IOException;

/**
 * The disk replica cannot be trusted: the backup died while applying an epoch whose changes are no longer
 * available to finish it, or its files are damaged. It does not match any checkpoint; protection needs a
 * full resynchronisation of the disk (start over with an empty replica directory).
 */
public final class InconsistentReplicaException extends IOException {
    private final long epoch;

    public InconsistentReplicaException(String message, long epoch) {
        super(message);
        this.epoch = epoch;
    }

    /** The epoch that was being applied, or {@link DiskReplica#NO_EPOCH} if not known. */
    public long epoch() {
        return epoch;
    }
}
