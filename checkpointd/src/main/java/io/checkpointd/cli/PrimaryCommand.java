package io.checkpointd.cli;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.metrics.MetricsServer;
import io.checkpointd.primary.PrimaryDaemon;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "primary", mixinStandardHelpOptions = true,
        description = {"Run a guest protected by continuous checkpoints to a backup (driver 'sim': the embedded guest).",
                "Stops on SIGTERM or SIGINT.",
                "Exit status 70: the guest could no longer be checkpointed (e.g. its QEMU died); it was stopped "
                        + "here and handed over to the backup, which resumes it from the last committed checkpoint."})
final class PrimaryCommand implements Callable<Integer> {

    @Mixin
    ConfigOption configOption;

    @Mixin
    MetricsOptions metricsOptions;

    @Mixin
    ProtectionOptions protection;

    @Option(names = "--domain", paramLabel = "NAME", description = "Name of the protected domain (domain.name).")
    String domain;

    @Option(names = "--service-port", paramLabel = "PORT",
            description = "UDP port of the sim guest's key-value service; 0 picks a free one (sim.service-port).")
    Integer servicePort;

    @Option(names = "--no-output-commit", description = "Release guest output at once: an unprotected baseline "
            + "for experiments; replies can then reveal state the backup does not have.")
    boolean noOutputCommit;

    @Option(names = "--run-dir", paramLabel = "DIR",
            description = "Where the sim guest's RAM file lives (default: a temporary directory removed at exit).")
    Path runDir;

    @Option(names = "--ready-file", paramLabel = "FILE", description = "Written once running: the service's UDP port.")
    Path readyFile;

    @Override
    public Integer call() throws Exception {
        CheckpointdConfig config = configOption.load(this::applyOverrides);
        return run(config, metricsOptions, runDir, readyFile, protection.summaryFile,
                daemon -> daemon.guest().serviceAddress().getPort() + "\n");
    }

    /**
     * Runs a primary until SIGTERM or SIGINT; shared by {@code primary} and {@code protect}.
     *
     * @param readyContent what the ready file says once the daemon runs
     */
    static int run(CheckpointdConfig config, MetricsOptions metricsOptions, Path runDir, Path readyFile,
                   Path summaryFile, Function<PrimaryDaemon, String> readyContent) throws Exception {
        Path dir = runDir != null ? Files.createDirectories(runDir) : Files.createTempDirectory("checkpointd-primary");
        if (runDir == null) {
            dir.toFile().deleteOnExit();
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // A guest that cannot be protected any more is fenced and handed over by the daemon, which then halts
        // the process with LaunchContext.EXIT_GUEST_LOST (the context's default).
        PrimaryDaemon daemon = PrimaryDaemon.launch(Drivers.forPrimary(config, dir).registry(registry));
        MetricsServer endpoint;
        try {
            endpoint = metricsOptions.serve(config, registry, () -> Statuses.primary(daemon, registry));
        } catch (IOException | RuntimeException e) {
            daemon.close();
            throw e;
        }
        if (readyFile != null) {
            Daemons.writeAtomically(readyFile, readyContent.apply(daemon));
        }
        Daemons.refreshEverySecond(summaryFile, () -> Summaries.primary(daemon));
        Daemons.runUntilStopped(() -> {
            if (endpoint != null) {
                endpoint.close();
            }
            daemon.close();
            if (runDir == null) {
                Files.deleteIfExists(dir.resolve(config.domain().name() + ".ram"));
                Files.deleteIfExists(dir.resolve(config.domain().name() + ".disk"));
            }
        }, summaryFile, () -> Summaries.primary(daemon));
        return 0;
    }

    CheckpointdConfig applyOverrides(CheckpointdConfig c) {
        c = protection.applyOverrides(metricsOptions.applyOverrides(c));
        if (domain != null) {
            c = c.withDomain(c.domain().withName(domain));
        }
        if (servicePort != null) {
            c = c.withSim(c.sim().withServicePort(servicePort));
        }
        if (noOutputCommit) {
            c = c.withNetBuffer(c.netBuffer().withOutputCommit(false));
        }
        return c;
    }
}
