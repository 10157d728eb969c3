/**
 * The primary: protects one running guest by checkpointing it every epoch to a backup.
 *
 * <p>Entry points:
 * <ul>
 *   <li>{@link io.checkpointd.primary.PrimaryDaemon#launch} puts it together from a
 *       {@link io.checkpointd.launch.LaunchContext}: the driver's guest, the replication connection, the
 *       sender and the epoch loop; when the guest is lost it fences it, sends HANDOVER and halts.</li>
 *   <li>{@link io.checkpointd.primary.EpochLoop} (one thread, an {@code Agent}): pause, collect the dirty
 *       pages, copy them to staging, capture the device state, close the epoch's output (barrier), resume;
 *       and the live pre-copy of a full checkpoint ({@code PreCopy}).</li>
 *   <li>{@code CheckpointSender} (an {@code Agent} draining a queue of {@code SendJob}s): after resume,
 *       frames a staged checkpoint (LZ4, PAGES ... END with a CRC32C digest) onto the link.</li>
 *   <li>{@link io.checkpointd.primary.PrimaryClient}: the replication connection ({@code ReplicationLink}):
 *       HELLO, ACKs that release held output, heartbeats, reconnects, HANDOVER and GOODBYE.</li>
 *   <li>{@link io.checkpointd.primary.PrimaryMetrics}: what the primary reports.</li>
 * </ul>
 */
package io.checkpointd.primary;
