package io.checkpointd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's contract with an operator: help everywhere, and errors that say what and where. */
class CliTest {
    @TempDir
    Path dir;

    private static ToolRun run(String... args) {
        return ToolRun.of(args);
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : new String[] {"demo", "protect", "primary", "backup"}) {
            ToolRun r = run(command, "--help");
            assertThat(r.status()).isZero();
            assertThat(r.out()).contains("Usage: checkpointd " + command);
        }
        assertThat(run("--help").out()).contains("demo", "protect", "primary", "backup", "tools");
    }

    @Test
    void everyToolHasHelpWithItsExitStatuses() {
        assertThat(run("tools", "--help").out()).contains("kv-client", "guest-log");
        for (String tool : new String[] {"kv-client", "guest-log"}) {
            ToolRun r = run("tools", tool, "--help");
            assertThat(r.status()).isZero();
            assertThat(r.out()).contains("Usage: checkpointd tools " + tool, "Exit status:", "3 ");
        }
        ToolRun none = run("tools");
        assertThat(none.status()).isEqualTo(2);
        assertThat(none.err()).contains("name a tool: kv-client or guest-log");
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
    void anOverrideOutOfRangeIsReportedAgainstTheCommandLine() {
        ToolRun r = run("primary", "--epoch", "20s", "--run-dir", dir.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("command line: epoch.interval");
    }

    @Test
    void aTrackerTheDriverCannotOfferIsRefusedAtStartWithTheReason() throws Exception {
        Path config = dir.resolve("soft.yaml");
        Files.writeString(config, "domain:\n  dirty-tracker: soft-dirty\nsim:\n  ram: 16MiB\n  hot-set: 1MiB\n");
        ToolRun r = run("primary", "--config", config.toString(), "--run-dir", dir.toString(), "--service-port", "0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("soft-dirty");
    }
}
