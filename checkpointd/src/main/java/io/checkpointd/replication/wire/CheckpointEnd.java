package io.checkpointd.replication.wire;

/**
 * Closes checkpoint {@code epoch}. The backup commits it only if what it received matches.
 *
 * @param pageCount        pages sent in this checkpoint
 * @param deviceStateBytes device-state bytes sent
 * @param digest           XXH64 (seed 0) over every page's decoded bytes in the order sent, then the device state
 */
public record CheckpointEnd(long epoch, long pageCount, long deviceStateBytes, long digest) implements Frame {
}
