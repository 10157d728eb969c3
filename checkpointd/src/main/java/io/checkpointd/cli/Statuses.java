package io.checkpointd.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.backup.BackupDaemon;
import io.checkpointd.backup.BackupServer.DomainStatus;
import io.checkpointd.failure.PeerMonitor;
import io.checkpointd.failure.PeerState;
import io.checkpointd.primary.PrimaryDaemon;
import io.checkpointd.primary.PrimaryMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What {@code GET /status} answers: the daemon's role and, per protected domain, where it stands. Every
 * domain carries the same keys whatever the role, {@code null} where a value does not apply, so a script
 * reads both roles alike:
 * <pre>
 * {"role": "primary", "pid": 4242, "domains": [{"domain": "demo", "role": "primary", "state": "protected",
 *   "last_committed_epoch": 1523, "lag_checkpoints": 1, "peer": "backup", "peer_state": "alive",
 *   "protected": true, "output_commit": true, "pause_ms": {"p50":, "p99":, "max":, "count":}, "ack_ms": {...},
 *   "failover": null, "standby_ready": true}]}
 * </pre>
 * {@code standby_ready}: whether the domain waits created and paused on the backup, so a failover only loads
 * the last checkpoint (the libvirt driver's warm standby); the primary shows what its backup said, the backup
 * what it holds; null where unknown or not applicable (the sim driver).
 * <pre>
 * </pre>
 * Pause and ACK times are over the whole run (Prometheus has the recent window: see docs/metrics.md).
 */
final class Statuses {
    private static final long BACKUP_ANSWER_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private Statuses() {
    }

    /**
     * The primary: {@code protected} (the backup holds the latest acknowledged checkpoint and output is held
     * until then), {@code replicating} (the same, with output commit off), {@code syncing} (the backup is
     * there but a full checkpoint has not committed yet) or {@code unprotected} (no backup).
     */
    static ObjectNode primary(PrimaryDaemon daemon, MeterRegistry registry) {
        PrimaryMetrics m = daemon.metrics();
        String name = daemon.config().domain().name();
        boolean outputCommit = daemon.config().netBuffer().outputCommit();
        // The daemon keeps its peer monitor to itself; the gauge the monitor publishes is the same state.
        Gauge peerGauge = registry.find(PeerMonitor.STATE).tags("domain", name, "peer", "backup").gauge();
        PeerState peer = peerGauge == null ? PeerState.UNKNOWN : PeerMonitor.stateOfGaugeValue(peerGauge.value());
        String state = m.isProtected() ? (outputCommit ? "protected" : "replicating")
                : peer == PeerState.ALIVE ? "syncing" : "unprotected";
        ObjectNode d = domain(name, "primary", state, m.lastCommittedEpoch(), "backup", peer,
                m.isProtected() && outputCommit);
        d.put("lag_checkpoints", m.replicationLag());
        Boolean standby = m.backupStandbyReady();
        if (standby == null) {
            d.putNull("standby_ready");
        } else {
            d.put("standby_ready", standby);
        }
        d.put("output_commit", outputCommit);
        d.set("pause_ms", Summaries.millis(m.pauseHistogram()));
        d.set("ack_ms", Summaries.millis(m.ackHistogram()));
        return daemon("primary", List.of(d));
    }

    /**
     * The backup, per domain it has seen: {@code replicating} (a primary is connected and the replica holds
     * a committed checkpoint), {@code syncing} (connected, nothing committed yet), {@code disconnected} (no
     * primary; the replica is kept) or {@code failed-over} (the guest runs here now, unprotected).
     * {@code protected} is the backup's view; while a returning primary re-synchronises, the primary's own
     * status (unprotected until the full checkpoint commits) is the one to believe.
     */
    static ObjectNode backup(BackupDaemon daemon) {
        List<DomainStatus> domains;
        try {
            domains = daemon.server().status(BACKUP_ANSWER_TIMEOUT_NS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the backup's event loop did not answer within "
                    + TimeUnit.NANOSECONDS.toSeconds(BACKUP_ANSWER_TIMEOUT_NS) + " s (applying a large checkpoint?)");
        } catch (ExecutionException e) {
            throw new IllegalStateException("backup status failed: " + e.getCause(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return daemon("backup", domains.stream().map(Statuses::backupDomain).toList());
    }

    private static ObjectNode backupDomain(DomainStatus s) {
        boolean committed = s.lastCommittedEpoch() > 0;
        String state = s.failover() != null ? "failed-over"
                : !s.connected() ? "disconnected"
                : committed ? "replicating" : "syncing";
        // A failover marks the replica as restored (epoch 0); the epoch the guest resumed from says more.
        long epoch = s.failover() != null ? s.failover().resumedEpoch() : s.lastCommittedEpoch();
        ObjectNode d = domain(s.domain(), "backup", state, epoch, "primary", s.peerState(),
                s.connected() && committed && s.failover() == null);
        if (s.standbyReady() != null) {
            d.put("standby_ready", s.standbyReady());
        }
        if (s.failover() != null) {
            ObjectNode f = d.putObject("failover");
            f.put("resumed_epoch", s.failover().resumedEpoch());
            f.put("detected_after_ms", Summaries.round(s.failover().detectedAfterNs() / 1e6));
            f.put("restore_ms", Summaries.round(s.failover().restoreNs() / 1e6));
        }
        return d;
    }

    private static ObjectNode domain(String name, String role, String state, long lastCommittedEpoch, String peer,
                                     PeerState peerState, boolean isProtected) {
        ObjectNode d = Daemons.JSON.createObjectNode();
        d.put("domain", name);
        d.put("role", role);
        d.put("state", state);
        d.put("last_committed_epoch", lastCommittedEpoch);
        d.putNull("lag_checkpoints");
        d.put("peer", peer);
        d.put("peer_state", peerState.name().toLowerCase(Locale.ROOT));
        d.put("protected", isProtected);
        d.putNull("output_commit");
        d.putNull("pause_ms");
        d.putNull("ack_ms");
        d.putNull("failover");
        d.putNull("standby_ready");
        return d;
    }

    private static ObjectNode daemon(String role, List<ObjectNode> domains) {
        ObjectNode o = Daemons.JSON.createObjectNode();
        o.put("role", role);
        o.put("pid", ProcessHandle.current().pid());
        ArrayNode array = o.putArray("domains");
        domains.forEach(array::add);
        return o;
    }
}
