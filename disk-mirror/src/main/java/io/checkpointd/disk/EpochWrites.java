package io.checkpointd.disk;

import java.util.List;

/**
 * Everything the guest changed on its disk during one epoch, as {@link EpochWriteLog#closeEpoch} hands it
 * over. The caller owns it: the log keeps no reference to the list or the data arrays.
 *
 * @param epoch      the epoch that was closed
 * @param writes     the changes in the order the server applied them to the image (immutable); empty when
 *                   {@code overflowed}
 * @param heldBytes  what the changes cost in memory ({@link DiskWrite#heldBytes()} summed); 0 when overflowed
 * @param overflowed true if the epoch's changes did not fit the log's byte budget and were dropped: the
 *                   backup cannot be brought to this epoch from {@code writes}, so the caller must fall back
 *                   to a full resynchronisation of the disk
 */
public record EpochWrites(long epoch, List<DiskWrite> writes, long heldBytes, boolean overflowed) {
    public EpochWrites {
        writes = List.copyOf(writes);
        if (overflowed && !writes.isEmpty()) {
            throw new IllegalArgumentException("an overflowed epoch carries no writes");
        }
    }
}
