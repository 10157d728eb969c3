package io.checkpointd.replication.wire;

/**
 * Opens checkpoint {@code epoch}. Everything until the matching {@link CheckpointEnd} belongs to it.
 *
 * @param full              true when this checkpoint carries every page (initial or re-synchronisation)
 * @param pageCount         how many pages the PAGES frames of this checkpoint will carry in total
 * @param deviceStateBytes  total size of the DEVICE_STATE frames that follow the pages
 */
public record CheckpointBegin(long epoch, boolean full, long pageCount, long deviceStateBytes) implements Frame {
}
