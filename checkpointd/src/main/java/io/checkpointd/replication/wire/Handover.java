package io.checkpointd.replication.wire;

/**
 * Primary to backup: the primary can no longer run the guest (its QEMU died, or pausing it fails) and has
 * stopped it; the backup should resume it from its last committed checkpoint now, without waiting for
 * the primary to fall silent. The opposite of {@link Goodbye}.
 */
public record Handover() implements Frame {
    @Override
    public long epoch() {
        return 0;
    }
}
