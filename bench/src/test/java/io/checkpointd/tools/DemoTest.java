package io.checkpointd.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The demo end to end: a backup and a primary as separate JVMs, a client, and the independent observer.
 * The second test proves the observer can fail: without output commit it must see early releases.
 */
class DemoTest {

    private static JsonNode runDemo(String... extra) throws Exception {
        CommandLine cli = ToolsMain.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("demo", "--json"));
        args.addAll(java.util.List.of(extra));
        if (!args.contains("--duration")) {
            args.addAll(java.util.List.of("--duration", "4s"));
        }
        int status = cli.execute(args.toArray(String[]::new));
        assertThat(status).as("demo exit status; stderr:\n%s", err).isZero();
        return new ObjectMapper().readTree(out.toString());
    }

    @Test
    void protectedGuestAnswersAndNoReplyLeavesBeforeItsCheckpointIsCommitted() throws Exception {
        JsonNode r = runDemo("--epoch", "25ms");
        assertThat(r.path("tls").asBoolean()).as("the demo runs the secure path: mutual TLS").isTrue();
        assertThat(r.path("early_releases").asLong()).isZero();
        assertThat(r.path("checkpoints").asLong()).isGreaterThan(20);
        assertThat(r.path("client").path("answered").asLong()).isGreaterThan(100);
        assertThat(r.path("replies_checked").asLong()).isEqualTo(r.path("client").path("answered").asLong()
                - r.path("client").path("errors").asLong());
        assertThat(r.path("pause_ms").path("p50").asDouble()).isPositive();
        assertThat(r.path("ack_ms").path("p99").asDouble()).isPositive();
        assertThat(r.path("bytes_wire").asLong()).isPositive().isLessThan(r.path("bytes_raw").asLong());
        assertThat(r.path("dirty_pages_per_epoch").asDouble()).isPositive();
        // Output commit costs at least the epoch: a reply waits for its checkpoint.
        assertThat(r.path("client").path("latency_ms").path("p50").asDouble()).isGreaterThan(r.path("epoch_ms").asDouble() / 2);
    }

    @Test
    void withoutOutputCommitTheObserverSeesEarlyReleases() throws Exception {
        JsonNode r = runDemo("--epoch", "200ms", "--no-output-commit");
        assertThat(r.path("output_commit").asBoolean()).isFalse();
        assertThat(r.path("client").path("answered").asLong()).isGreaterThan(100);
        assertThat(r.path("early_releases").asLong()).isPositive();
    }

    @Test
    void killingThePrimaryFailsOverWithoutLosingAnAcknowledgedWrite() throws Exception {
        JsonNode r = runDemo("--duration", "9s", "--kill-primary-at", "4s");
        JsonNode failover = r.path("failover");
        assertThat(failover.path("resumed_epoch").asLong()).as("failover happened: %s", r).isPositive();
        assertThat(failover.path("detected_after_ms").asDouble()).isBetween(900.0, 5000.0);
        assertThat(failover.path("downtime_ms").asDouble()).isPositive();
        assertThat(r.path("client").path("acked_writes").asLong()).isPositive();
        assertThat(r.path("client").path("keys_verified_after_failover").asLong()).isPositive();
        assertThat(r.path("client").path("lost_acked_writes").asLong()).isZero();
        assertThat(r.path("early_releases").asLong()).isZero();
        assertThat(r.path("backup").path("failovers").asLong()).isEqualTo(1);
    }
}
