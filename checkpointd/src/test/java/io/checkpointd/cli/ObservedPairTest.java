package io.checkpointd.cli;

import io.checkpointd.util.FileTrees;
import static io.checkpointd.testing.PrometheusTools.PROMTOOL;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.checkpointd.backup.BackupDaemon;
import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.HostPort;
import io.checkpointd.config.TlsConfig;
import io.checkpointd.metrics.MetricsServer;
import io.checkpointd.primary.PrimaryDaemon;
import io.checkpointd.testing.PrometheusTools;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A primary and a backup in this JVM with a 16 MiB sim guest, each serving its endpoint as the commands
 * start it: what /status and {@code checkpointd status} say about them, and that the Grafana dashboard and
 * the metric catalogue name exactly what they export.
 */
class ObservedPairTest {
    private static final Pattern METRIC = Pattern.compile("checkpointd_[a-z_]+");

    private static Path dir;
    private static BackupDaemon backup;
    private static PrimaryDaemon primary;
    private static MetricsServer backupEndpoint;
    private static MetricsServer primaryEndpoint;

    @BeforeAll
    static void startPair() throws Exception {
        dir = Files.createTempDirectory("checkpointd-observed");
        CheckpointdConfig d = CheckpointdConfig.defaults();
        CheckpointdConfig config = d
                .withSim(d.sim().withRamBytes(16L << 20).withHotSetBytes(4L << 20).withServicePort(0))
                .withReplication(d.replication().withListen(new HostPort("127.0.0.1", 0)).withTls(TlsConfig.off()))
                .withBackup(d.backup().withDir(dir.resolve("backup")).allowing(d.domain().name(), List.of("primary")))
                .withMetrics(d.metrics().withListen(new HostPort("127.0.0.1", 0)));
        PrometheusMeterRegistry backupRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        backup = BackupDaemon.launch(Drivers.forBackup(config).registry(backupRegistry));
        backupEndpoint = new MetricsOptions().serve(config, backupRegistry, () -> Statuses.backup(backup));
        config = config.withReplication(config.replication().withBackup(new HostPort("127.0.0.1",
                ((InetSocketAddress) backup.address()).getPort())));
        PrometheusMeterRegistry primaryRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        primary = PrimaryDaemon.launch(Drivers.forPrimary(config, dir).registry(primaryRegistry));
        primaryEndpoint = new MetricsOptions().serve(config, primaryRegistry,
                () -> Statuses.primary(primary, primaryRegistry));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        // Protected, and a few ordinary checkpoints past the full one, so every histogram has samples.
        while (!primary.metrics().isProtected() || primary.metrics().committed() < 5) {
            assertThat(System.nanoTime() - deadline).as("primary protected within 60 s").isNegative();
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void stopPair() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {primaryEndpoint, backupEndpoint, primary, backup}) {
            if (c != null) {
                c.close();
            }
        }
        FileTrees.delete(dir);
    }

    // ---- /status ----

    @Test
    void primaryStatusShowsTheGuestProtected() throws Exception {
        JsonNode status = status(primaryEndpoint);
        assertThat(status.path("role").asText()).isEqualTo("primary");
        assertThat(status.path("domains")).hasSize(1);
        JsonNode demo = status.path("domains").get(0);
        assertThat(demo.path("domain").asText()).isEqualTo("demo");
        assertThat(demo.path("role").asText()).isEqualTo("primary");
        assertThat(demo.path("state").asText()).isEqualTo("protected");
        assertThat(demo.path("protected").asBoolean()).isTrue();
        assertThat(demo.path("last_committed_epoch").asLong()).isGreaterThanOrEqualTo(5);
        assertThat(demo.path("lag_checkpoints").asLong()).isBetween(0L, 2L);
        assertThat(demo.path("peer").asText()).isEqualTo("backup");
        assertThat(demo.path("peer_state").asText()).isEqualTo("alive");
        assertThat(demo.path("output_commit").asBoolean()).isTrue();
        assertThat(demo.path("pause_ms").path("count").asLong()).isGreaterThanOrEqualTo(5);
        assertThat(demo.path("pause_ms").path("p50").asDouble()).isPositive();
        assertThat(demo.path("ack_ms").path("p99").asDouble()).isGreaterThanOrEqualTo(demo.path("ack_ms").path("p50").asDouble()).isPositive();
        assertThat(demo.path("failover").isNull()).isTrue();
    }

    @Test
    void backupStatusShowsTheDomainReplicating() throws Exception {
        JsonNode status = status(backupEndpoint);
        assertThat(status.path("role").asText()).isEqualTo("backup");
        JsonNode demo = status.path("domains").get(0);
        assertThat(demo.path("domain").asText()).isEqualTo("demo");
        assertThat(demo.path("state").asText()).isEqualTo("replicating");
        assertThat(demo.path("protected").asBoolean()).isTrue();
        assertThat(demo.path("last_committed_epoch").asLong()).isGreaterThanOrEqualTo(5);
        assertThat(demo.path("peer").asText()).isEqualTo("primary");
        assertThat(demo.path("peer_state").asText()).isEqualTo("alive");
        assertThat(demo.path("lag_checkpoints").isNull()).isTrue();
        assertThat(demo.path("pause_ms").isNull()).isTrue();
        // Same keys in the same order whatever the role, so scripts read both alike.
        assertThat(fieldNames(demo)).isEqualTo(fieldNames(status(primaryEndpoint).path("domains").get(0)));
    }

    // ---- checkpointd status ----

    @Test
    void statusCommandPrintsATableOfTheDomains() {
        Cli primaryTable = cli("status", "--url", primaryEndpoint.url());
        assertThat(primaryTable.exit()).as(primaryTable.err()).isZero();
        List<String> lines = primaryTable.out().lines().toList();
        assertThat(lines.getFirst()).startsWith("checkpointd primary, pid " + ProcessHandle.current().pid());
        assertThat(lines.get(2)).matches("DOMAIN +ROLE +STATE +EPOCH +LAG +PEER +PROTECTED +STANDBY +PAUSE p50/p99 ms +ACK p50/p99 ms");
        assertThat(lines.get(3)).matches("demo +primary +protected +\\d+ +[012] +backup alive +yes +- +[0-9.]+ / [0-9.]+ +[0-9.]+ / [0-9.]+");

        // With a path and without the scheme, as people paste addresses.
        Cli backupTable = cli("status", "--url", backupEndpoint.url().substring("http://".length()) + "/metrics");
        assertThat(backupTable.exit()).as(backupTable.err()).isZero();
        assertThat(backupTable.out()).startsWith("checkpointd backup, pid ")
                .containsPattern("demo +backup +replicating +\\d+ +- +primary alive +yes +- +- +-");
    }

    @Test
    void statusCommandJsonIsTheEndpointsJson() throws Exception {
        Cli json = cli("status", "--json", "--url", backupEndpoint.url());
        assertThat(json.exit()).as(json.err()).isZero();
        JsonNode printed = Daemons.JSON.readTree(json.out());
        assertThat(printed.path("role").asText()).isEqualTo("backup");
        assertThat(printed.path("domains").get(0).path("state").asText()).isEqualTo("replicating");
    }

    @Test
    void statusCommandSaysWhenNothingAnswers() throws Exception {
        String url = "http://127.0.0.1:" + PrometheusTools.freePort();
        Cli r = cli("status", "--url", url);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("checkpointd status: no checkpointd answering at " + url + ": connection refused\n");
    }

    // ---- what /metrics exports, against the dashboard, the catalogue and promtool ----

    /**
     * Every metric name in a dashboard query must be a sample name one of the daemons exports: the exact
     * series Prometheus will store, suffix included ({@code _total}, {@code _bucket}, {@code _sum},
     * {@code _count}, {@code _max}), so a query on a histogram's bare family name fails here as it would
     * in Grafana.
     */
    @Test
    void everyDashboardQueryNamesASeriesTheDaemonsExport() throws Exception {
        Set<String> exported = new TreeSet<>(PrometheusTools.sampleNames(scrape(primaryEndpoint)));
        exported.addAll(PrometheusTools.sampleNames(scrape(backupEndpoint)));
        List<String> queries = PrometheusTools.dashboardQueries();
        assertThat(queries).as("queries found in the dashboard").hasSizeGreaterThan(20);
        for (String query : queries) {
            List<String> names = METRIC.matcher(query).results().map(MatchResult::group).toList();
            assertThat(names).as("metric names in %s", query).isNotEmpty();
            assertThat(exported).as("series exported, for %s", query).containsAll(names);
        }
    }

    @Test
    void everyExportedFamilyIsInTheCatalogue() throws Exception {
        String catalogue = Files.readString(PrometheusTools.repoFile("docs/metrics.md"));
        Set<String> families = new TreeSet<>();
        for (String scrape : List.of(scrape(primaryEndpoint), scrape(backupEndpoint))) {
            scrape.lines().filter(l -> l.startsWith("# TYPE ")).forEach(l -> families.add(l.split(" ")[2]));
        }
        // A timer's or summary's _max gauge is described with its family, not on a line of its own.
        families.removeIf(f -> f.endsWith("_max") && families.contains(f.substring(0, f.length() - "_max".length())));
        assertThat(families).hasSizeGreaterThan(25);
        for (String family : families) {
            assertThat(catalogue).as("docs/metrics.md lists %s", family).contains("`" + family + "`");
        }
    }

    @Test
    void scrapesPassPromtoolCheckMetrics() throws Exception {
        PrometheusTools.assumeInstalled(PROMTOOL, "ObservedPairTest.scrapesPassPromtoolCheckMetrics");
        for (MetricsServer endpoint : List.of(primaryEndpoint, backupEndpoint)) {
            Path file = dir.resolve("scrape-" + endpoint.port() + ".txt");
            Files.writeString(file, scrape(endpoint));
            PrometheusTools.Run run = PrometheusTools.run(dir, "sh", "-c", PROMTOOL + " check metrics < " + file);
            assertThat(run.exitCode()).as("promtool check metrics on %s:\n%s", endpoint.url(), run.output()).isZero();
            assertThat(run.output()).as("promtool's complaints").isBlank();
        }
    }

    private static String scrape(MetricsServer endpoint) throws Exception {
        HttpResponse<String> r = PrometheusTools.get(endpoint.url() + "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private static JsonNode status(MetricsServer endpoint) throws Exception {
        HttpResponse<String> r = PrometheusTools.get(endpoint.url() + "/status");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Daemons.JSON.readTree(r.body());
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private record Cli(int exit, String out, String err) {
    }

    private static Cli cli(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Cli(exit, out.toString(), err.toString());
    }
}
