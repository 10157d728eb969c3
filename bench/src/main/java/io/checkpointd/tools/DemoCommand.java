package io.checkpointd.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.backup.ReplicaStore;
import io.checkpointd.cli.ConfigOption;
import io.checkpointd.cli.Converters;
import io.checkpointd.cli.Daemons;
import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.sim.KvLayout;
import io.checkpointd.replication.tls.CertificateAuthority;
import io.checkpointd.tools.demo.ChildProcess;
import io.checkpointd.tools.demo.KvClient;
import io.checkpointd.tools.demo.ReplicaObserver;
import io.checkpointd.util.FileTrees;
import io.checkpointd.util.NanoClock;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Protect the embedded sim guest on this machine: a backup and a primary run as two processes on",
                "loopback while a client updates the guest's key-value service; then print what happened.",
                "Every reply the client receives is checked against the backup's replica by an independent",
                "observer: early_releases counts replies that left before their state was committed."})
final class DemoCommand implements Callable<Integer> {
    private static final long READY_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);
    private static final long STOP_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);
    /**
     * Above the usual reply time (epoch + ACK, p99 about 70 ms at 50 ms epochs) so retries mostly mean loss,
     * and short enough that an outage is timed to within a quarter second.
     */
    private static final long RETRY_AFTER_NS = TimeUnit.MILLISECONDS.toNanos(250);

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Option(names = "--duration", paramLabel = "DURATION", converter = Converters.DurationNs.class,
            defaultValue = "20s", description = "How long the client load runs (default: ${DEFAULT-VALUE}).")
    long durationNs;

    @Option(names = "--epoch", paramLabel = "DURATION", converter = Converters.DurationNs.class,
            description = "Time the guest runs between checkpoints (default: epoch.interval of the config, 50ms built in).")
    Long epochNs;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "32",
            description = "Client requests kept in flight (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--kill-primary-at", paramLabel = "DURATION", converter = Converters.DurationNs.class,
            description = "Kill the primary with SIGKILL this long into the client load (as its host dying would);"
                    + " the backup must take over and the client carries on against it.")
    Long killPrimaryAtNs;

    @Option(names = "--no-output-commit", description = "Run the primary without holding output (a baseline "
            + "for experiments; early_releases will then be above 0).")
    boolean noOutputCommit;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "0",
            description = "The primary serves /metrics and /status on PORT, the backup on PORT+1; 0 (the default) "
                    + "picks free ports. The URLs are printed on stderr and in --json as metrics_urls.")
    int metricsPort;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Keep logs, replicas and summaries here (default: a temporary directory, removed after).")
    Path workDir;

    @Option(names = "--plain-tcp", description = "Replicate over plain TCP on loopback instead of mutual TLS: "
            + "a baseline to measure what TLS costs (not with --config).")
    boolean plainTcp;

    @Option(names = "--json", description = "Print one JSON object instead of the readable summary.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        CheckpointdConfig config = configOption.load(c -> c);
        if (killPrimaryAtNs != null && killPrimaryAtNs >= durationNs) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--kill-primary-at must come before the end of --duration");
        }
        String domain = config.domain().name();
        Path work = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("checkpointd-demo");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            ObjectNode result = run(config, domain, work, err);
            if (json) {
                out.println(result.toPrettyString());
            } else {
                out.print(DemoReport.readable(result));
            }
            out.flush();
            boolean failoverOk = killPrimaryAtNs == null || result.path("failover").has("resumed_epoch");
            boolean clean = (result.path("early_releases").asLong() == 0 || noOutputCommit)
                    && result.path("client").path("lost_acked_writes").asLong() == 0 && failoverOk;
            return clean ? 0 : 2;
        } finally {
            if (workDir == null) {
                FileTrees.delete(work);
            } else {
                err.println("demo: logs, replica and summaries kept in " + work);
            }
        }
    }

    private ObjectNode run(CheckpointdConfig config, String domain, Path work, PrintWriter err) throws Exception {
        Path backupDir = work.resolve("backup");
        // A reused --work-dir must not hand this run an earlier run's ports, replica or summaries.
        for (String stale : List.of("backup.port", "primary.port", "backup.json", "primary.json", "backup.log",
                "primary.log", "backup.metrics-port", "primary.metrics-port")) {
            Files.deleteIfExists(work.resolve(stale));
        }
        FileTrees.delete(backupDir);
        FileTrees.delete(work.resolve("primary"));
        List<String> common = new ArrayList<>();
        if (configOption.file() != null) {
            common.add("--config");
            common.add(configOption.file().toAbsolutePath().toString());
        }
        // The main job runs the secure path: mutual TLS with throwaway certificates made for this run.
        Path tls = work.resolve("tls");
        FileTrees.delete(tls);
        List<String> backupTls = new ArrayList<>();
        List<String> primaryTls = new ArrayList<>();
        if (plainTcp) {
            if (configOption.file() != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--plain-tcp and --config do not go "
                        + "together: write 'replication: {tls: off}' in the config file instead");
            }
            Path plain = Files.writeString(work.resolve("plain-tcp.yaml"), "replication:\n  tls: off\n");
            common.addAll(List.of("--config", plain.toString()));
        } else {
            CertificateAuthority.create("demo CA").writeHosts(tls, List.of("primary", "backup"));
            backupTls.addAll(List.of("--tls-dir", tls.resolve("backup").toString()));
            primaryTls.addAll(List.of("--tls-dir", tls.resolve("primary").toString()));
        }
        err.println("demo: starting backup and primary over " + (plainTcp ? "plain TCP" : "mutual TLS") + " (logs in "
                + work + ")");
        boolean metrics = config.metrics().enabled();
        try (ChildProcess backup = ChildProcess.start("backup", work.resolve("backup.log"), concat(List.of("backup",
                "--listen", "127.0.0.1:0", "--dir", backupDir.toString(), "--ready-file", work.resolve("backup.port").toString(),
                "--allow", domain + "=primary",
                "--summary-file", work.resolve("backup.json").toString()), backupTls,
                metricsArgs(metrics, metricsPort == 0 ? 0 : metricsPort + 1, work.resolve("backup.metrics-port")),
                common))) {
            String backupPort = backup.awaitFile(work.resolve("backup.port"), READY_TIMEOUT_NS);
            List<String> primaryArgs = new ArrayList<>(List.of("primary", "--backup", "127.0.0.1:" + backupPort,
                    "--service-port", "0", "--run-dir", work.resolve("primary").toString(),
                    "--ready-file", work.resolve("primary.port").toString(),
                    "--summary-file", work.resolve("primary.json").toString()));
            if (epochNs != null) {
                primaryArgs.add("--epoch");
                primaryArgs.add(epochNs + "ns");
            }
            if (noOutputCommit) {
                primaryArgs.add("--no-output-commit");
            }
            primaryArgs.addAll(primaryTls);
            List<String> primaryMetrics = metricsArgs(metrics, metricsPort, work.resolve("primary.metrics-port"));
            try (ChildProcess primary = ChildProcess.start("primary", work.resolve("primary.log"),
                    concat(primaryArgs, primaryMetrics, common))) {
                int servicePort = Integer.parseInt(primary.awaitFile(work.resolve("primary.port"), READY_TIMEOUT_NS));
                ObjectNode urls = Daemons.JSON.createObjectNode();
                if (metrics) {
                    urls.put("primary", metricsUrl(config, primary, work.resolve("primary.metrics-port")));
                    urls.put("backup", metricsUrl(config, backup, work.resolve("backup.metrics-port")));
                    err.println("demo: metrics on " + urls.path("primary").asText() + " (primary) and "
                            + urls.path("backup").asText() + " (backup); checkpointd status --url URL shows their state");
                }
                awaitFirstCommit(backupDir, domain, primary);
                err.println("demo: guest protected; client load for " + TimeUnit.NANOSECONDS.toSeconds(durationNs) + " s");
                KvLayout layout = new KvLayout(config.sim().pageSizeBytes(), config.sim().keys());
                KvClient.Result client;
                ReplicaObserver observer = new ReplicaObserver(backupDir.resolve(domain).resolve("memory.replica"), layout);
                Thread killer = null;
                try (observer;
                     KvClient kv = new KvClient(new InetSocketAddress("127.0.0.1", servicePort), concurrency,
                             config.sim().keys(), observer, NanoClock.SYSTEM, RETRY_AFTER_NS)) {
                    if (killPrimaryAtNs != null) {
                        long killAtNs = System.nanoTime() + killPrimaryAtNs;
                        kv.expectKillAt(killAtNs);
                        killer = Thread.ofPlatform().name("killer").start(() -> killAt(primary, killAtNs, err));
                    }
                    client = kv.run(durationNs);
                }
                if (killer != null) {
                    killer.join();
                }
                if (primary.isAlive()) {
                    primary.stop(STOP_TIMEOUT_NS);
                }
                backup.stop(STOP_TIMEOUT_NS);
                observer.examples().forEach(e -> err.println("demo: early release: " + e));
                client.lostExamples().forEach(e -> err.println("demo: LOST acknowledged write: " + e));
                Path failover = backupDir.resolve(domain).resolve("failover.json");
                ObjectNode result = DemoReport.merge(readJson(work.resolve("primary.json"), primary),
                        readJson(work.resolve("backup.json"), backup), client, observer, !noOutputCommit,
                        killPrimaryAtNs == null ? null : Files.exists(failover)
                                ? Daemons.JSON.readTree(failover.toFile()) : Daemons.JSON.createObjectNode());
                result.set("metrics_urls", urls);
                return result;
            }
        }
    }

    private static void killAt(ChildProcess primary, long killAtNs, PrintWriter err) {
        try {
            long waitNs = killAtNs - System.nanoTime();
            if (waitNs > 0) {
                TimeUnit.NANOSECONDS.sleep(waitNs);
            }
            primary.kill();
            err.println("demo: primary killed with SIGKILL");
            err.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitFirstCommit(Path backupDir, String domain, ChildProcess primary)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT_NS;
        while (ReplicaStore.committedEpoch(backupDir, domain) < 0) {
            if (!primary.isAlive() || System.nanoTime() - deadline > 0) {
                throw new IOException("the backup never committed a first checkpoint; primary log:\n" + primary.logTail());
            }
            Thread.sleep(20);
        }
    }

    private static JsonNode readJson(Path file, ChildProcess child) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException(child.name() + " wrote no summary; its log:\n" + child.logTail());
        }
        return Daemons.JSON.readTree(file.toFile());
    }

    private static List<String> metricsArgs(boolean enabled, int port, Path portFile) {
        return enabled ? List.of("--metrics-port", Integer.toString(port), "--metrics-port-file", portFile.toString())
                       : List.of();
    }

    private static String metricsUrl(CheckpointdConfig config, ChildProcess child, Path portFile)
            throws IOException, InterruptedException {
        int port = Integer.parseInt(child.awaitFile(portFile, READY_TIMEOUT_NS));
        return "http://" + config.metrics().listen().withPort(port) + "/metrics";
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        List<String> all = new ArrayList<>();
        for (List<String> list : lists) {
            all.addAll(list);
        }
        return all;
    }
}
