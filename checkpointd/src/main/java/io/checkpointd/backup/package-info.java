/**
 * The backup: keeps a replica of each protected guest and resumes it when its primary dies.
 *
 * <p>Entry points:
 * <ul>
 *   <li>{@link io.checkpointd.backup.BackupDaemon#launch} puts it together from a
 *       {@link io.checkpointd.launch.LaunchContext}: the listener, the replica stores under
 *       {@code backup.dir}, and one {@code GuestRestorer} per driver it has.</li>
 *   <li>{@link io.checkpointd.backup.BackupServer}: the listener and its domains, all owned by one event loop;
 *       it polls each domain's failover controller.</li>
 *   <li>{@link io.checkpointd.backup.BackupSession}: one replication connection, a state machine from HELLO
 *       to GOODBYE; stages a checkpoint and commits it only on a verified END.</li>
 *   <li>{@link io.checkpointd.backup.ReplicaStore}: the replica of RAM and disk, with its commit record.</li>
 *   <li><b>The failover path</b>: {@link io.checkpointd.backup.FailoverController#poll(long)} finds the
 *       primary dead (or HANDOVER arrives), closes the half-received checkpoint, and has the driver's
 *       {@code GuestRestorer} start the guest from the last committed checkpoint.</li>
 * </ul>
 */
package io.checkpointd.backup;
