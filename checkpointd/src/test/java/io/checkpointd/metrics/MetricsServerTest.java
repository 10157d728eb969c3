package io.checkpointd.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.checkpointd.config.HostPort;
import io.checkpointd.testing.PrometheusTools;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicReference<String> status = new AtomicReference<>("{\"role\":\"test\"}");
    private MetricsServer server;
    private String base;

    @BeforeEach
    void start() throws Exception {
        Counter.builder("checkpointd.test.events").register(registry).increment(3);
        server = MetricsServer.start(new HostPort("127.0.0.1", 0), registry, () -> {
            String s = status.get();
            if (s == null) {
                throw new IllegalStateException("no status yet");
            }
            return s;
        });
        base = server.url();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void metricsIsThePrometheusTextOfTheRegistry() throws Exception {
        HttpResponse<String> r = PrometheusTools.get(base + "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue(MetricsServer.PROMETHEUS_TEXT);
        assertThat(r.body()).contains("checkpointd_test_events_total 3.0");
    }

    @Test
    void statusIsTheSuppliersJson() throws Exception {
        HttpResponse<String> r = PrometheusTools.get(base + "/status");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).isEqualTo("{\"role\":\"test\"}\n");
    }

    /** One client that never finishes its request does not block /status for everyone else. */
    @Test
    void aSlowClientDoesNotBlockTheOthers() throws Exception {
        try (java.net.Socket slow = new java.net.Socket("127.0.0.1", server.port())) {
            slow.getOutputStream().write("GET /status HTTP/1.1\r\nHost: x\r\n".getBytes()); // no blank line
            slow.getOutputStream().flush();
            Thread.sleep(200);
            long startNs = System.nanoTime();
            var client = java.net.http.HttpClient.newHttpClient();
            var response = client.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(server.url() + "/status")).timeout(java.time.Duration.ofSeconds(5)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(System.nanoTime() - startNs).as("answered while the slow client waits").isLessThan(5_000_000_000L);
        }
    }

    @Test
    void aWrongPathIsA404WithOneLine() throws Exception {
        for (String path : new String[] {"/", "/metricsx", "/status/x", "/favicon.ico"}) {
            HttpResponse<String> r = PrometheusTools.get(base + path);
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.body()).as(path).isEqualTo("not found: " + path + " (this endpoint serves /metrics and /status)\n");
        }
    }

    @Test
    void aFailingStatusIsA503ThatSaysWhy() throws Exception {
        status.set(null);
        HttpResponse<String> r = PrometheusTools.get(base + "/status");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("unavailable: no status yet\n");
    }

    @Test
    void aTakenPortIsRefusedWithTheSettingsToChange() {
        assertThatThrownBy(() -> MetricsServer.start(new HostPort("127.0.0.1", server.port()), registry, () -> "{}"))
                .hasMessageStartingWith("cannot serve metrics on 127.0.0.1:" + server.port() + ": ")
                .hasMessageEndingWith("; choose another port with --metrics-port or metrics.listen (two daemons on one host"
                        + " need different ports)");
    }
}
