package io.checkpointd.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.cli.Daemons;
import io.checkpointd.cli.Summaries;
import io.checkpointd.tools.demo.KvClient;
import io.checkpointd.tools.demo.ReplicaObserver;

/** The demo's result: one JSON object (the contract of {@code demo --json}) and its readable rendering. */
final class DemoReport {
    private DemoReport() {
    }

    static ObjectNode merge(JsonNode primary, JsonNode backup, KvClient.Result client, ReplicaObserver observer,
                            boolean outputCommit, JsonNode failover) {
        ObjectNode o = Daemons.JSON.createObjectNode();
        o.put("output_commit", outputCommit);
        o.put("tls", primary.path("tls").asBoolean());
        // A killed primary's summary is its last refresh (at most a second old); the backup's count is exact.
        o.put("checkpoints", failover == null ? primary.path("checkpoints").asLong()
                : backup.path("checkpoints_committed").asLong());
        o.put("epoch_ms", primary.path("epoch_ms").asDouble());
        o.set("pause_ms", primary.path("pause_ms"));
        o.put("dirty_pages_per_epoch", primary.path("dirty_pages_per_epoch").path("mean").asDouble());
        o.put("dirty_pages_per_epoch_stddev", primary.path("dirty_pages_per_epoch").path("stddev").asDouble());
        o.put("bytes_raw", primary.path("bytes_raw").asLong());
        o.put("bytes_wire", primary.path("bytes_wire").asLong());
        o.put("compression_ratio", primary.path("compression_ratio").asDouble());
        o.set("ack_ms", primary.path("ack_ms"));
        o.set("initial_sync", primary.path("initial_sync"));
        o.put("epoch_stalls", primary.path("epoch_stalls").asLong());
        ObjectNode c = o.putObject("client");
        c.put("requests", client.requests());
        c.put("answered", client.answered());
        c.put("retries", client.retries());
        c.put("errors", client.errors());
        c.set("latency_ms", Summaries.millis(client.latencyNs()));
        c.put("acked_writes", client.ackedWrites());
        c.put("lost_acked_writes", client.lostAckedWrites());
        if (failover != null) {
            c.put("keys_verified_after_failover", client.keysVerified());
            ObjectNode f = o.putObject("failover");
            f.setAll((ObjectNode) failover);
            f.put("downtime_ms", client.downtimeNs() < 0 ? -1 : Summaries.round(client.downtimeNs() / 1e6));
        }
        o.put("early_releases", observer.earlyReleases());
        o.put("replies_checked", observer.checked());
        o.set("primary", primary);
        o.set("backup", backup);
        return o;
    }

    static String readable(JsonNode r) {
        JsonNode pause = r.path("pause_ms");
        JsonNode ack = r.path("ack_ms");
        JsonNode client = r.path("client");
        JsonNode latency = client.path("latency_ms");
        StringBuilder s = new StringBuilder();
        s.append("checkpointd demo: sim guest protected by a backup process on loopback\n\n");
        s.append(String.format("  checkpoints committed  %d (every %.0f ms; %d full)%n", r.path("checkpoints").asLong(),
                r.path("epoch_ms").asDouble(), r.path("primary").path("checkpoints_taken").asLong()
                        - r.path("primary").path("dirty_pages_per_epoch").path("epochs").asLong()));
        s.append(String.format("  guest pause            p50 %.3f ms   p99 %.3f ms   max %.3f ms%n",
                pause.path("p50").asDouble(), pause.path("p99").asDouble(), pause.path("max").asDouble()));
        s.append(String.format("  dirty pages per epoch  mean %.0f (sd %.0f)%n", r.path("dirty_pages_per_epoch").asDouble(),
                r.path("dirty_pages_per_epoch_stddev").asDouble()));
        s.append(String.format("  replication            %s raw -> %s on the wire (ratio %.2f)%n",
                mib(r.path("bytes_raw").asLong()), mib(r.path("bytes_wire").asLong()),
                r.path("compression_ratio").asDouble()));
        s.append(String.format("  ack after resume       p50 %.3f ms   p99 %.3f ms%n", ack.path("p50").asDouble(),
                ack.path("p99").asDouble()));
        s.append(String.format("  epoch loop waits       %d (backup behind by max-in-flight)%n",
                r.path("epoch_stalls").asLong()));
        s.append(String.format("  client                 %d requests, %d answered, %d retried; latency p50 %.1f ms, p99 %.1f ms%n",
                client.path("requests").asLong(), client.path("answered").asLong(), client.path("retries").asLong(),
                latency.path("p50").asDouble(), latency.path("p99").asDouble()));
        JsonNode f = r.path("failover");
        if (!f.isMissingNode()) {
            s.append(f.has("resumed_epoch")
                    ? String.format("  FAILOVER               primary killed; backup resumed epoch %d, detected after %.0f ms,"
                            + " restored in %.0f ms; client saw %.0f ms without answers%n", f.path("resumed_epoch").asLong(),
                            f.path("detected_after_ms").asDouble(), f.path("restore_ms").asDouble(),
                            f.path("downtime_ms").asDouble())
                    : "  FAILOVER               primary killed, but the backup did NOT take over\n");
            s.append(String.format("  acknowledged writes    %d, lost %d (%d keys read back after failover)%n",
                    client.path("acked_writes").asLong(), client.path("lost_acked_writes").asLong(),
                    client.path("keys_verified_after_failover").asLong()));
        }
        s.append(String.format("  early releases         %d of %d replies checked against the backup's replica%s%n",
                r.path("early_releases").asLong(), r.path("replies_checked").asLong(),
                r.path("output_commit").asBoolean() ? "" : " (output commit OFF)"));
        s.append(r.path("tls").asBoolean() ? "  replication            mutual TLS 1.3 (throwaway lab certificates)\n"
                : "  replication            plain TCP (loopback)\n");
        return s.toString();
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
