package io.checkpointd.tools.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.checkpointd.testing.PrometheusTools;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mission end to end: a real QEMU guest under libvirt, protected at a 100 ms epoch while a client in
 * another network namespace updates it; the primary daemon and its QEMU die by SIGKILL; the backup's
 * restored guest must answer on the same address with every acknowledged update, and its disk must hold
 * exactly the committed log. Installs and starts what it needs (scripts/libvirt-up, guest/build-image).
 */
class LibvirtFailoverTest {
    @TempDir
    Path work;

    /** Generous against the 1.2-1.4 s measured: it catches a broken failover (a 38 s re-probe), not a slow one. */
    private static final long MAX_KILL_TO_ANSWER_MS = LibvirtFailoverScenario.Settings.DEFAULT_MAX_FAILOVER_MS;
    /** A restore that must first create the domain (no warm standby), 128 MiB: the bound. */
    private static final long MAX_COLD_RESTORE_MS = 2000;

    @Test
    void guestSurvivesTheDeathOfItsHost() throws Exception {
        JsonNode report = run(LibvirtFailoverScenario.Kill.HOST, true);
        assertThat(report.path("primary").path("checkpoints").asLong()).isGreaterThan(10);
        assertThat(report.path("standby_ready_at_kill").asBoolean()).as("the backup's warm standby was ready").isTrue();
        assertThat(report.path("primary_saw_standby_ready").asBoolean()).as("the primary was told so").isTrue();
        assertThat(report.path("backup_failover").path("ram_in_place").asBoolean()).as("no RAM copied").isTrue();
    }

    /** QEMU alone dies: the daemon, still alive, must see it and hand over rather than heartbeat on. */
    @Test
    void guestSurvivesTheDeathOfItsQemu() throws Exception {
        JsonNode report = run(LibvirtFailoverScenario.Kill.QEMU, true);
        assertThat(report.path("primary_exit").asInt()).isEqualTo(70);
        assertThat(report.path("standby_ready_at_kill").asBoolean()).as("the backup's warm standby was ready").isTrue();
    }

    /** No standby waiting: the backup creates the domain at failover, and that must not cost seconds. */
    @Test
    void failoverWithoutAWarmStandbyIsStillBounded() throws Exception {
        JsonNode report = run(LibvirtFailoverScenario.Kill.HOST, false);
        assertThat(report.path("standby_ready_at_kill").asBoolean()).isFalse();
        assertThat(report.path("primary_saw_standby_ready").asBoolean()).isFalse();
        assertThat(report.path("backup_failover").path("restore_ms").asDouble())
                .as("restore without a warm standby, 128 MiB").isPositive().isLessThanOrEqualTo(MAX_COLD_RESTORE_MS);
    }

    private JsonNode run(LibvirtFailoverScenario.Kill kill, boolean warmStandby) throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            skip("needs root: it starts libvirt, creates network namespaces, taps and a bridge");
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            skip("no /dev/net/tun on this machine");
        }
        Path repo = PrometheusTools.repoFile("scripts/libvirt-up").getParent().getParent();
        JsonNode report = new LibvirtFailoverScenario(
                new LibvirtFailoverScenario.Settings(repo, work, 128, 100, 14, 6, 1000, kill, MAX_KILL_TO_ANSWER_MS,
                        warmStandby)).run();
        System.err.println("LibvirtFailoverTest report (" + kill + (warmStandby ? "" : ", no warm standby") + "): "
                + report.toPrettyString());
        assertThat(report.path("problems")).as(report.toPrettyString()).isEmpty();
        assertThat(report.path("passed").asBoolean()).isTrue();
        assertThat(report.path("client").path("acked_writes").asLong()).isGreaterThan(100);
        assertThat(report.path("client").path("lost_acked_writes").asLong()).isZero();
        assertThat(report.path("kill_to_first_answer_ms").asLong()).as("kill to the client's first answer, ms")
                .isPositive().isLessThanOrEqualTo(MAX_KILL_TO_ANSWER_MS);
        assertThat(report.path("backup_failover").path("resumed_epoch").asLong()).isPositive();
        assertThat(report.path("disk_log").path("records").asLong()).isPositive();
        return report;
    }

    private static void skip(String reason) {
        System.err.println("SKIPPED LibvirtFailoverTest: " + reason);
        Assumptions.abort(reason);
    }
}
