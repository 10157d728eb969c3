package io.checkpointd.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.backup.BackupDaemon;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.primary.PrimaryDaemon;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.checkpointd.primary.InitialSyncStats;
import io.checkpointd.primary.PausePhases;
import io.checkpointd.primary.PrimaryMetrics;
import org.HdrHistogram.Histogram;

/** End-of-run summaries as JSON: what a daemon writes to {@code --summary-file} and the demo merges. */
public final class Summaries {
    private Summaries() {
    }

    static ObjectNode primary(PrimaryDaemon daemon) {
        PrimaryMetrics m = daemon.metrics();
        DirtyStats dirty = daemon.dirtyStats();
        ObjectNode o = Daemons.JSON.createObjectNode();
        o.put("role", "primary");
        o.put("domain", daemon.config().domain().name());
        o.put("epoch_ms", daemon.config().epoch().intervalNs() / 1e6);
        o.put("checkpoints", m.committed());
        o.put("checkpoints_taken", m.taken());
        o.set("pause_ms", millis(m.pauseHistogram()));
        ObjectNode phases = o.putObject("pause_phases_ms");
        for (PausePhases.Phase phase : PausePhases.Phase.values()) {
            phases.set(phase.label(), millis(m.phases().histogram(phase)));
        }
        ObjectNode d = o.putObject("dirty_pages_per_epoch");
        d.put("mean", round(dirty.meanDirtyPages()));
        d.put("stddev", round(dirty.sampleStddevDirtyPages()));
        d.put("max", dirty.epochs() == 0 ? 0 : dirty.maxDirtyPages());
        d.put("epochs", dirty.epochs());
        InitialSyncStats sync = daemon.initialSync();
        ObjectNode initial = o.putObject("initial_sync");
        initial.put("mode", sync.live() ? "live" : "paused");
        initial.put("rounds", sync.pagesPerRound().size());
        ArrayNode perRound = initial.putArray("pages_per_round");
        sync.pagesPerRound().forEach(perRound::add);
        initial.put("stop_reason", sync.stopReason());
        initial.put("first_pause_ms", sync.pauseNs() < 0 ? -1 : round(sync.pauseNs() / 1e6));
        o.put("bytes_raw", m.bytesRaw());
        o.put("bytes_wire", m.bytesWire());
        o.put("compression_ratio", m.bytesWire() == 0 ? 0 : round((double) m.bytesRaw() / m.bytesWire()));
        o.set("ack_ms", millis(m.ackHistogram()));
        o.put("epoch_stalls", m.stalls());
        o.put("guest_ring_drops", daemon.guest().guestDrops());
        o.put("tls", daemon.tls());
        return o;
    }

    static ObjectNode backup(BackupDaemon daemon) {
        ObjectNode o = Daemons.JSON.createObjectNode();
        o.put("role", "backup");
        o.put("checkpoints_committed", daemon.metrics().committed());
        o.put("checkpoints_discarded", daemon.metrics().discarded());
        o.put("last_committed_epoch", daemon.metrics().lastCommittedEpoch());
        o.put("bytes_received", daemon.metrics().bytesReceived());
        o.put("failovers", daemon.metrics().failovers());
        return o;
    }

    /** p50, p99 and max of a histogram of nanoseconds, in milliseconds. */
    public static ObjectNode millis(Histogram ns) {
        ObjectNode o = Daemons.JSON.createObjectNode();
        o.put("p50", round(ns.getValueAtPercentile(50) / 1e6));
        o.put("p99", round(ns.getValueAtPercentile(99) / 1e6));
        o.put("max", round(ns.getMaxValue() / 1e6));
        o.put("count", ns.getTotalCount());
        return o;
    }

    public static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
