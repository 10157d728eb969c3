package io.checkpointd.cli;

import io.checkpointd.backup.BackupDaemon;
import io.checkpointd.config.BackupConfig;
import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.HostPort;
import io.checkpointd.metrics.MetricsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

@Command(name = "backup", mixinStandardHelpOptions = true,
        description = {"Receive checkpoints from primaries and keep a replica of each protected guest.",
                "Stops on SIGTERM or SIGINT."})
final class BackupCommand implements Callable<Integer> {
    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}";

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Mixin
    MetricsOptions metricsOptions;

    @Option(names = "--listen", paramLabel = "HOST:PORT", converter = Converters.Address.class,
            description = "Replication listen address; port 0 picks a free one (replication.listen).")
    HostPort listen;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where replicas are kept (backup.dir).")
    Path dir;

    @Option(names = "--tap", paramLabel = "NAME",
            description = "Tap device a restored libvirt guest's network uses (libvirt.tap).")
    String tap;

    @Option(names = "--restored-name", paramLabel = "NAME",
            description = "Name for a restored libvirt domain; needed when the primary runs on this host "
                    + "(libvirt.restored-name).")
    String restoredName;

    @Mixin
    TlsOptions tls;

    @Option(names = "--allow", paramLabel = "DOMAIN=PRIMARY[,PRIMARY...]", split = ";",
            description = "Host DOMAIN for the primaries named (as in their certificates); repeatable. Adds to "
                    + "backup.domains. A backup hosts only the domains its operator names.")
    List<String> allow = new ArrayList<>();

    @Option(names = "--ready-file", paramLabel = "FILE", description = "Written once listening: the bound port.")
    Path readyFile;

    @Option(names = "--summary-file", paramLabel = "FILE", description = "Written at exit: a JSON summary of the run.")
    Path summaryFile;

    /** One --allow rule: DOMAIN=PRIMARY[,PRIMARY...]. */
    private BackupConfig allowing(BackupConfig backup, String rule) {
        int eq = rule.indexOf('=');
        List<String> primaries = eq < 0 ? List.of() : List.of(rule.substring(eq + 1).split(","));
        String domain = eq < 0 ? rule : rule.substring(0, eq);
        if (!domain.matches(NAME) || primaries.isEmpty() || !primaries.stream().allMatch(p -> p.matches(NAME))) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--allow " + rule + ": write DOMAIN=PRIMARY "
                    + "or DOMAIN=PRIMARY1,PRIMARY2, plain names ([A-Za-z0-9._-])");
        }
        return backup.allowing(domain, primaries);
    }

    @Override
    public Integer call() throws Exception {
        CheckpointdConfig config = configOption.load(c -> {
            c = metricsOptions.applyOverrides(c);
            if (listen != null) {
                c = c.withReplication(c.replication().withListen(listen));
            }
            if (dir != null) {
                c = c.withBackup(c.backup().withDir(dir));
            }
            if (tap != null) {
                c = c.withLibvirt(c.libvirt().withTap(tap));
            }
            if (restoredName != null) {
                c = c.withLibvirt(c.libvirt().withRestoredName(restoredName));
            }
            for (String rule : allow) {
                c = c.withBackup(allowing(c.backup(), rule));
            }
            return tls.applyOverrides(c);
        });
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        BackupDaemon daemon = BackupDaemon.launch(Drivers.forBackup(config).registry(registry));
        MetricsServer endpoint;
        try {
            endpoint = metricsOptions.serve(config, registry, () -> Statuses.backup(daemon));
        } catch (IOException | RuntimeException e) {
            daemon.close();
            throw e;
        }
        if (readyFile != null) {
            Daemons.writeAtomically(readyFile, ((InetSocketAddress) daemon.address()).getPort() + "\n");
        }
        Daemons.runUntilStopped(() -> {
            if (endpoint != null) {
                endpoint.close();
            }
            daemon.close();
        }, summaryFile, () -> Summaries.backup(daemon));
        return 0;
    }
}
