package io.checkpointd.tools;

import io.checkpointd.util.FileTrees;
import static io.checkpointd.testing.PrometheusTools.PROMETHEUS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.checkpointd.cli.Daemons;
import io.checkpointd.testing.PrometheusTools;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A real Prometheus server (the Debian package's) scraping the demo's two processes every second: through
 * its HTTP API the main series must exist and move, the alert rules load and evaluate, and every dashboard
 * query runs.
 */
class PrometheusScrapesDemoTest {
    private static final Pattern METRICS_URL = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/metrics");
    private static final long DEMO_SECONDS = 25;

    private Path dir;
    private Process prometheus;
    private Thread demo;

    @AfterEach
    void cleanUp() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly().waitFor();
            }
        }
        if (demo != null) {
            // The demo stops its child processes when its run ends; wait for that rather than leak them.
            demo.join(TimeUnit.SECONDS.toMillis(DEMO_SECONDS + 60));
        }
        FileTrees.delete(dir);
    }

    @Test
    void prometheusSeesTheDemosSeriesExistAndMove() throws Exception {
        PrometheusTools.assumeInstalled(PROMETHEUS, "PrometheusScrapesDemoTest");
        dir = Files.createTempDirectory("checkpointd-prometheus");
        Path config = dir.resolve("checkpointd.yaml");
        Files.writeString(config, "sim:\n  ram: 64MiB\n  hot-set: 16MiB\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int[] exit = {-1};
        demo = Thread.ofPlatform().name("demo").start(() -> {
            CommandLine cli = ToolsMain.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(err, true));
            exit[0] = cli.execute("demo", "--json", "--duration", DEMO_SECONDS + "s", "--metrics-port", "0",
                    "-c", config.toString());
        });

        List<String> ports = awaitMetricsPorts(err);
        int web = startPrometheus(ports.get(0), ports.get(1));
        String api = "http://127.0.0.1:" + web + "/api/v1/";

        // The acceptance query of issue 7: checkpoints are committed, seen through Prometheus.
        JsonNode checkpoints = awaitPositive(api, "rate(checkpointd_checkpoints_total[10s])");
        System.err.println("PrometheusScrapesDemoTest: rate(checkpointd_checkpoints_total[10s]) = " + checkpoints);
        Map<String, String> moving = Map.of(
                "checkpoints taken", "rate(checkpointd_checkpoints_taken_total[10s])",
                "pauses", "rate(checkpointd_pause_seconds_count[10s])",
                "pause p99", "histogram_quantile(0.99, sum by (le) (rate(checkpointd_pause_seconds_bucket[10s])))",
                "dirty pages", "rate(checkpointd_dirty_pages_sum[10s])",
                "bytes on the wire", "rate(checkpointd_replication_wire_bytes_total[10s])",
                "backup commits", "rate(checkpointd_backup_checkpoints_committed_total[10s])",
                "heartbeats", "rate(checkpointd_heartbeat_received_total{peer=\"primary\"}[10s])",
                "released output", "rate(checkpointd_netbuffer_released_frames_total[10s])");
        for (var e : moving.entrySet()) {
            assertThat(awaitPositive(api, e.getValue())).as(e.getKey()).isNotNull();
        }
        assertThat(value(query(api, "checkpointd_protected"))).as("protected").isEqualTo(1);
        assertThat(value(query(api, "checkpointd_peer_state{peer=\"backup\"}"))).as("backup alive").isEqualTo(1);
        assertThat(query(api, "up == 1").path("data").path("result")).as("both targets up").hasSize(2);

        assertRulesLoadedAndHealthy(api);
        for (String expr : PrometheusTools.dashboardQueries()) {
            // Grafana's variables, as Grafana would fill them in.
            String promql = expr.replace("$__rate_interval", "10s").replace("$__range", "1m").replace("$domain", ".*");
            if (!promql.startsWith("label_values(")) {
                assertThat(query(api, promql).path("status").asText()).as("dashboard query %s", promql).isEqualTo("success");
            }
        }

        System.err.println("PrometheusScrapesDemoTest: later, rate(checkpointd_checkpoints_total[10s]) = "
                + query(api, "rate(checkpointd_checkpoints_total[10s])"));

        demo.join(TimeUnit.SECONDS.toMillis(DEMO_SECONDS + 60));
        assertThat(exit[0]).as("demo exit status; stderr:\n%s", err).isZero();
        JsonNode result = Daemons.JSON.readTree(out.toString());
        assertThat(result.path("metrics_urls").path("primary").asText()).isEqualTo("http://127.0.0.1:" + ports.get(0) + "/metrics");
        assertThat(result.path("metrics_urls").path("backup").asText()).isEqualTo("http://127.0.0.1:" + ports.get(1) + "/metrics");
    }

    /** The primary's and the backup's metrics ports, from the line the demo prints on stderr. */
    private List<String> awaitMetricsPorts(StringWriter err) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            List<String> ports = METRICS_URL.matcher(err.toString()).results().map(m -> m.group(1)).toList();
            if (ports.size() >= 2) {
                return ports;
            }
            assertThat(demo.isAlive()).as("demo running; stderr:\n%s", err).isTrue();
            assertThat(System.nanoTime() - deadline).as("metrics URLs on stderr within 60 s:\n%s", err).isNegative();
            Thread.sleep(50);
        }
    }

    private int startPrometheus(String primaryPort, String backupPort) throws Exception {
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files:
                  - %s
                scrape_configs:
                  - job_name: checkpointd-primary
                    static_configs:
                      - targets: ["127.0.0.1:%s"]
                  - job_name: checkpointd-backup
                    static_configs:
                      - targets: ["127.0.0.1:%s"]
                """.formatted(PrometheusTools.repoFile("conf/prometheus/alerts.yml"), primaryPort, backupPort));
        int web = PrometheusTools.freePort();
        prometheus = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + web)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            assertThat(prometheus.isAlive()).as("prometheus running; its log:\n%s", log()).isTrue();
            try {
                if (PrometheusTools.get("http://127.0.0.1:" + web + "/-/ready").statusCode() == 200) {
                    return web;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            }
            assertThat(System.nanoTime() - deadline).as("prometheus ready within 30 s:\n%s", log()).isNegative();
            Thread.sleep(100);
        }
    }

    /** Queries until the first result of {@code promql} is above zero (at most 30 s); returns that answer. */
    private JsonNode awaitPositive(String api, String promql) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            JsonNode answer = query(api, promql);
            if (value(answer) > 0) {
                return answer;
            }
            assertThat(System.nanoTime() - deadline).as("%s above 0 within 30 s; last answer %s", promql, answer)
                    .isNegative();
            Thread.sleep(500);
        }
    }

    private void assertRulesLoadedAndHealthy(String api) throws Exception {
        List<String> unhealthy = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        do {
            unhealthy.clear();
            Thread.sleep(500);
            JsonNode groups = Daemons.JSON.readTree(PrometheusTools.get(api + "rules").body()).path("data").path("groups");
            List<JsonNode> rules = groups.findValues("rules").stream().flatMap(r -> r.valueStream()).toList();
            assertThat(rules).as("alert rules loaded").hasSize(5);
            rules.stream().filter(r -> !r.path("health").asText().equals("ok"))
                    .forEach(r -> unhealthy.add(r.path("name").asText() + ": " + r.path("health").asText() + " "
                            + r.path("lastError").asText()));
        } while (!unhealthy.isEmpty() && System.nanoTime() - deadline < 0);
        assertThat(unhealthy).as("rules evaluated without error").isEmpty();
    }

    private static JsonNode query(String api, String promql) throws Exception {
        HttpResponse<String> r = PrometheusTools.get(api + "query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        return Daemons.JSON.readTree(r.body());
    }

    /** The first sample's value of an instant query's answer; NaN when there is none. */
    private static double value(JsonNode answer) {
        JsonNode result = answer.path("data").path("result");
        return result.isEmpty() ? Double.NaN : result.get(0).path("value").get(1).asDouble();
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("prometheus.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
