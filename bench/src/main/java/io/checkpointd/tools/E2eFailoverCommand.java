package io.checkpointd.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.tools.demo.LibvirtFailoverScenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "e2e-failover", mixinStandardHelpOptions = true,
        description = {"Protect a real QEMU guest under libvirt on this host, kill its host (the protect daemon and",
                "QEMU, SIGKILL), and check that the backup's restored guest answers on the same address with",
                "every acknowledged update and an exact disk log. Needs root; installs and starts libvirt",
                "(scripts/libvirt-up) and builds the guest image (guest/build-image). Prints a JSON report",
                "with the pause breakdown and the failover time. Exit 0 when every check held, 3 when not."})
final class E2eFailoverCommand implements Callable<Integer> {
    static final int EXIT_FAILED_CHECKS = 3;

    @Spec
    CommandSpec spec;

    @Option(names = "--repo", paramLabel = "DIR", required = true,
            description = "The checkpointd repository (scripts/, guest/, conf/ are used from it).")
    Path repo;

    @Option(names = "--ram-mib", paramLabel = "MIB", defaultValue = "128", description = "Guest RAM (default: ${DEFAULT-VALUE}).")
    int ramMib;

    @Option(names = "--epoch-ms", paramLabel = "MS", defaultValue = "100",
            description = "Time the guest runs between checkpoints (default: ${DEFAULT-VALUE}).")
    int epochMs;

    @Option(names = "--duration-s", paramLabel = "S", defaultValue = "20",
            description = "How long the client updates the guest (default: ${DEFAULT-VALUE}).")
    int durationS;

    @Option(names = "--kill-at-s", paramLabel = "S", defaultValue = "8",
            description = "When, after the client starts, the primary host dies (default: ${DEFAULT-VALUE}).")
    int killAtS;

    @Option(names = "--dead-after-ms", paramLabel = "MS", defaultValue = "1000",
            description = "Silence after which the backup declares the primary dead; heartbeats every tenth of it "
                    + "(default: ${DEFAULT-VALUE}; conf/fast-failover.yaml uses 200).")
    int deadAfterMs;

    @Option(names = "--kill", paramLabel = "WHAT", defaultValue = "host",
            description = "What dies: host (the protect daemon and QEMU) or qemu (QEMU alone; the daemon must hand "
                    + "over by itself). Default: ${DEFAULT-VALUE}.")
    String kill;

    @Option(names = "--max-failover-ms", paramLabel = "MS", defaultValue = "3000",
            description = "The bound on the outage: the report's passed is false when the client's first answer "
                    + "after the kill comes later than this (default: ${DEFAULT-VALUE}).")
    long maxFailoverMs;

    @Option(names = "--no-warm-standby",
            description = "Let the backup create the domain only at failover (libvirt.warm-standby: false), to "
                    + "measure a restore without a standby waiting.")
    boolean noWarmStandby;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Where logs and images go (default: a new directory under /tmp, kept for reading).")
    Path workDir;

    private LibvirtFailoverScenario.Kill killMode() {
        return switch (kill) {
            case "host" -> LibvirtFailoverScenario.Kill.HOST;
            case "qemu" -> LibvirtFailoverScenario.Kill.QEMU;
            default -> throw new IllegalArgumentException("--kill: '" + kill + "' is neither host nor qemu");
        };
    }

    @Override
    public Integer call() throws Exception {
        if (killAtS >= durationS) {
            throw new IllegalArgumentException("--kill-at-s (" + killAtS + ") must be before the client stops ("
                    + "--duration-s " + durationS + ")");
        }
        if (maxFailoverMs <= 0) {
            throw new IllegalArgumentException("--max-failover-ms " + maxFailoverMs + " must be positive");
        }
        if (deadAfterMs < 50 || deadAfterMs > 10_000) {
            throw new IllegalArgumentException("--dead-after-ms " + deadAfterMs + " is outside 50 to 10000");
        }
        Path work = workDir != null ? workDir : Files.createTempDirectory("checkpointd-e2e");
        ObjectNode report = new LibvirtFailoverScenario(new LibvirtFailoverScenario.Settings(repo.toAbsolutePath(),
                work, ramMib, epochMs, durationS, killAtS, deadAfterMs, killMode(), maxFailoverMs, !noWarmStandby)).run();
        report.put("work_dir", work.toString());
        spec.commandLine().getOut().println(report.toPrettyString());
        return report.path("passed").asBoolean() ? 0 : EXIT_FAILED_CHECKS;
    }
}
