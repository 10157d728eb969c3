package io.checkpointd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.testing.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's command line's contract with an operator: help everywhere, and errors that say what and where.
 * The harness's commands (demo, tools) are checked by ToolsCliTest in bench.
 */
class CliTest {
    @TempDir
    Path dir;

    private static ToolRun run(String... args) {
        return ToolRun.of(Main.commandLine(), args);
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : new String[] {"protect", "primary", "backup"}) {
            ToolRun r = run(command, "--help");
            assertThat(r.status()).isZero();
            assertThat(r.out()).contains("Usage: checkpointd " + command);
        }
        // demo and tools live in the harness (bench/), which bin/checkpointd runs for them; the help says so.
        assertThat(run("--help").out()).contains("demo", "protect", "primary", "backup", "tools");
    }

    @Test
    void aFlagWithoutUnitIsRefusedWithTheFix() {
        ToolRun r = run("primary", "--epoch", "25");
        assertThat(r.status()).isNotZero();
        assertThat(r.err()).contains("--epoch").contains("'25' has no unit; write 25ms");
    }

    @Test
    void aBadConfigFileNamesTheFileAndKey() throws Exception {
        Path config = dir.resolve("checkpointd.yaml");
        Files.writeString(config, "epoch:\n  interval: 25\n");
        ToolRun r = run("backup", "--config", config.toString(), "--listen", "127.0.0.1:0", "--dir", dir.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("checkpointd.yaml: epoch.interval: '25' has no unit; write 25ms");
    }

    @Test
    void aDaemonWithoutTlsMaterialRefusesToStartAndSaysHowToGetSome() {
        ToolRun r = run("backup", "--listen", "127.0.0.1:0", "--dir", dir.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("replication.tls is on (the default), but no TLS material is given: pass "
                + "--tls-dir DIR/<host>").contains("checkpointd certs init DIR --hosts primary,backup");
    }

    @Test
    void aBackupWhoseDirIsAFileRefusesToStart() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        Path config = dir.resolve("plain-dir.yaml");
        Files.writeString(config, "replication:\n  tls: off\n");
        ToolRun r = run("backup", "--config", config.toString(), "--listen", "127.0.0.1:0", "--dir", file.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("backup.dir " + file + " is not usable for replicas");
    }

    @Test
    void plainTcpIsRefusedOffLoopback() throws Exception {
        Path config = dir.resolve("plain.yaml");
        Files.writeString(config, "replication:\n  tls: off\n");
        ToolRun r = run("backup", "--config", config.toString(), "--listen", "0.0.0.0:0", "--dir", dir.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("replication.tls is off, but /0.0.0.0:0 is not a loopback address");
    }

    @Test
    void certsInitMakesAFolderPerHostThatADaemonLoads() throws Exception {
        ToolRun r = run("certs", "init", dir.resolve("pki").toString(), "--hosts", "primary,backup");
        assertThat(r.status()).as(r.err()).isZero();
        for (String host : new String[] {"primary", "backup"}) {
            assertThat(dir.resolve("pki").resolve(host)).isDirectoryContaining("glob:**/ca.pem")
                    .isDirectoryContaining("glob:**/cert.pem").isDirectoryContaining("glob:**/key.pem");
            io.checkpointd.replication.tls.TlsMaterial.load(dir.resolve("pki").resolve(host));
        }
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("pki/backup/key.pem")))).isEqualTo("rw-------");
        ToolRun again = run("certs", "init", dir.resolve("pki").toString(), "--hosts", "backup");
        assertThat(again.status()).isEqualTo(1);
        assertThat(again.err()).contains("exists already; not overwriting a key");
    }

    @Test
    void anOverrideOutOfRangeIsReportedAgainstTheCommandLine() {
        ToolRun r = run("primary", "--epoch", "20s", "--run-dir", dir.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("command line: epoch.interval");
    }

    @Test
    void aTrackerTheDriverCannotOfferIsRefusedAtStartWithTheReason() throws Exception {
        Path config = dir.resolve("soft.yaml");
        Files.writeString(config, "domain:\n  dirty-tracker: soft-dirty\nsim:\n  ram: 16MiB\n  hot-set: 1MiB\n"
                + "replication:\n  tls: off\n");
        ToolRun r = run("primary", "--config", config.toString(), "--run-dir", dir.toString(), "--service-port", "0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("soft-dirty");
    }
}
