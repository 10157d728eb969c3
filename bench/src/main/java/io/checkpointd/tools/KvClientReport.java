package io.checkpointd.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.cli.Summaries;
import io.checkpointd.tools.demo.KvClient;
import io.checkpointd.tools.demo.LongestGap;
import java.time.Instant;

/** {@code tools kv-client}'s result: the JSON fields (its contract with scripts) and the readable rendering. */
final class KvClientReport {
    /**
     * Turns the client's monotonic times into wall-clock epoch milliseconds from one reading of both clocks,
     * so a step of the wall clock during the run cannot make a gap look shorter or longer than it was.
     */
    record WallClock(long anchorNs, long anchorEpochMs) {
        static WallClock now() {
            return new WallClock(System.nanoTime(), System.currentTimeMillis());
        }

        long epochMs(long nanoTime) {
            return anchorEpochMs + Math.floorDiv(nanoTime - anchorNs, 1_000_000L);
        }
    }

    private KvClientReport() {
    }

    static void addResult(ObjectNode o, KvClient.Result r, WallClock wall) {
        o.put("requests", r.requests());
        o.put("answered", r.answered());
        o.put("retries", r.retries());
        o.put("errors", r.errors());
        o.put("network_errors", r.networkErrors());
        o.put("acked_writes", r.ackedWrites());
        o.put("lost_acked_writes", r.lostAckedWrites());
        r.lostExamples().forEach(o.putArray("lost_examples")::add);
        o.put("keys_written", r.keysWritten());
        o.put("keys_verified", r.keysVerified());
        o.put("keys_unverified", r.keysUnverified());
        o.set("latency_ms", Summaries.millis(r.latencyNs()));
        LongestGap.Gap gap = r.longestGap();
        o.put("longest_gap_ms", Summaries.round(gap.lengthNs() / 1e6));
        o.put("gap_start_ms", wall.epochMs(gap.startNs()));
        // -1: the run ended inside the gap, no answer came after it.
        o.put("gap_end_ms", gap.answered() ? wall.epochMs(gap.endNs()) : -1);
        var longGaps = o.putArray("long_gaps");
        for (LongestGap.Gap g : r.longGaps()) {
            longGaps.addObject().put("start_ms", wall.epochMs(g.startNs())).put("end_ms", wall.epochMs(g.endNs()));
        }
    }

    static String readable(JsonNode r) {
        JsonNode latency = r.path("latency_ms");
        StringBuilder s = new StringBuilder();
        s.append(String.format("checkpointd tools kv-client: %s, %.1f s of load, %d in flight over %d keys%n%n",
                r.path("target").asText(), r.path("duration_ms").asLong() / 1e3, r.path("concurrency").asInt(),
                r.path("keys").asInt()));
        s.append(String.format("  requests     %d sent, %d answered, %d resent, %d refused (BAD_REQUEST), %d network errors%n",
                r.path("requests").asLong(), r.path("answered").asLong(), r.path("retries").asLong(),
                r.path("errors").asLong(), r.path("network_errors").asLong()));
        s.append(String.format("  latency      p50 %.2f ms   p99 %.2f ms   max %.2f ms%n", latency.path("p50").asDouble(),
                latency.path("p99").asDouble(), latency.path("max").asDouble()));
        s.append(String.format("  writes       %d acknowledged, %d LOST; %d keys written, %d read back, %d not%n",
                r.path("acked_writes").asLong(), r.path("lost_acked_writes").asLong(), r.path("keys_written").asLong(),
                r.path("keys_verified").asLong(), r.path("keys_unverified").asLong()));
        long start = r.path("gap_start_ms").asLong();
        long end = r.path("gap_end_ms").asLong();
        s.append(String.format("  longest gap  %.0f ms without an answer, from %s (%d) %s%n",
                r.path("longest_gap_ms").asDouble(), Instant.ofEpochMilli(start), start,
                end < 0 ? "to the end of the run: no answer came after it"
                        : "to the next answer at " + Instant.ofEpochMilli(end) + " (" + end + ")"));
        for (JsonNode lost : r.path("lost_examples")) {
            s.append("  LOST         ").append(lost.asText()).append('\n');
        }
        return s.toString();
    }
}
