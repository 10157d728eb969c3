package io.checkpointd.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.testing.ToolRun;
import org.junit.jupiter.api.Test;

/** The harness's command line (demo and tools): help everywhere, exit statuses documented, as the daemon's. */
class ToolsCliTest {
    private static ToolRun run(String... args) {
        return ToolRun.of(ToolsMain.commandLine(), args);
    }

    @Test
    void theDemoHasHelp() {
        ToolRun r = run("demo", "--help");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("Usage: checkpointd demo");
        assertThat(run("--help").out()).contains("demo", "tools");
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
}
