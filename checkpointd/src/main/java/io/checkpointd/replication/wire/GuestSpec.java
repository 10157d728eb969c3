package io.checkpointd.replication.wire;

/**
 * The guest a primary protects, as HELLO states it: what the backup checks and sizes its replica by, and
 * what the named driver on the backup needs to start the guest after a failover.
 *
 * @param driver        the driver that runs the guest on both hosts ({@code sim}, {@code libvirt}): a plain
 *                      name, at most {@link FrameCodec#MAX_STRING_BYTES}
 * @param ramBytes      guest RAM size; the backup's replica must be exactly this size
 * @param pageSizeBytes page granularity of PAGES frames
 * @param diskBytes     size of the mirrored disk, 0 when the guest has none
 * @param description   the driver's own description of the guest (its record, in the driver's format: the sim
 *                      guest's settings, a libvirt domain's XML), at most {@link FrameCodec#MAX_DESCRIPTION_BYTES}
 *                      of UTF-8; only that driver reads it
 */
public record GuestSpec(String driver, long ramBytes, int pageSizeBytes, long diskBytes, String description) {
}
