package io.checkpointd.netbuffer;

import static io.checkpointd.netbuffer.Frames.frame;
import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.netbuffer.Frames.RecordingSink;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

class OutputBufferMetricsTest {
    private static final long MS = 1_000_000;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RecordingSink sink = new RecordingSink();

    private double gauge(String name) {
        return registry.get(name).tag("domain", "db").gauge().value();
    }

    private double counter(String name, String... tags) {
        return registry.get(name).tags("domain", "db").tags(tags).counter().count();
    }

    @Test
    void metersFollowHeldReleasedAndDroppedFrames() {
        try (OutputBuffer buffer = new OutputBuffer(100, 10, registry, Tags.of("domain", "db"))) {
            buffer.add(frame(30), 0);
            buffer.add(frame(50), 10 * MS);
            buffer.add(frame(40), 20 * MS); // 120 bytes: tail drop
            buffer.barrier(1);
            buffer.add(frame(5), 30 * MS);

            assertThat(gauge(OutputBufferMetrics.HELD_FRAMES)).isEqualTo(3);
            assertThat(gauge(OutputBufferMetrics.HELD_BYTES)).isEqualTo(85);
            assertThat(counter(OutputBufferMetrics.DROPPED_FRAMES, "reason", "full")).isEqualTo(1);
            assertThat(counter(OutputBufferMetrics.DROPPED_BYTES, "reason", "full")).isEqualTo(40);

            buffer.releaseUpTo(1, 60 * MS, sink);

            assertThat(gauge(OutputBufferMetrics.HELD_FRAMES)).isEqualTo(1);
            assertThat(gauge(OutputBufferMetrics.HELD_BYTES)).isEqualTo(5);
            assertThat(counter(OutputBufferMetrics.RELEASED_FRAMES)).isEqualTo(2);
            assertThat(counter(OutputBufferMetrics.RELEASED_BYTES)).isEqualTo(80);
            Timer latency = registry.get(OutputBufferMetrics.RELEASE_LATENCY).tag("domain", "db").timer();
            assertThat(latency.count()).isEqualTo(2);
            assertThat(latency.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(60 + 50);
            assertThat(latency.max(TimeUnit.MILLISECONDS)).isEqualTo(60);

            buffer.discardAll();

            assertThat(gauge(OutputBufferMetrics.HELD_FRAMES)).isZero();
            assertThat(gauge(OutputBufferMetrics.HELD_BYTES)).isZero();
            assertThat(counter(OutputBufferMetrics.DROPPED_FRAMES, "reason", "shutdown")).isEqualTo(1);
            assertThat(counter(OutputBufferMetrics.DROPPED_BYTES, "reason", "shutdown")).isEqualTo(5);
            assertThat(counter(OutputBufferMetrics.RELEASED_FRAMES)).isEqualTo(2);
        }
    }

    @Test
    void releaseAllIsCountedAsReleased() {
        try (OutputBuffer buffer = new OutputBuffer(100, 10, registry, Tags.of("domain", "db"))) {
            buffer.add(frame(7), 0);
            buffer.barrier(1);
            buffer.add(frame(8), 0);
            buffer.releaseAll(MS, sink);
            assertThat(counter(OutputBufferMetrics.RELEASED_FRAMES)).isEqualTo(2);
            assertThat(counter(OutputBufferMetrics.RELEASED_BYTES)).isEqualTo(15);
            assertThat(gauge(OutputBufferMetrics.HELD_FRAMES)).isZero();
        }
    }

    @Test
    void closeUnregistersSoTheNextBufferWithTheSameTagsGetsFreshMeters() {
        OutputBuffer first = new OutputBuffer(100, 10, registry, Tags.of("domain", "db"));
        first.add(frame(7), 0);
        first.close();
        assertThat(registry.find(OutputBufferMetrics.HELD_FRAMES).meters()).isEmpty();
        assertThat(registry.getMeters()).isEmpty();

        try (OutputBuffer second = new OutputBuffer(100, 10, registry, Tags.of("domain", "db"))) {
            second.add(frame(3), 0);
            assertThat(gauge(OutputBufferMetrics.HELD_FRAMES)).isEqualTo(1);
            assertThat(gauge(OutputBufferMetrics.HELD_BYTES)).isEqualTo(3);
        }
    }

    @Test
    void prometheusNamesFollowItsConventions() {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (OutputBuffer buffer = new OutputBuffer(100, 10, prometheus, Tags.of("domain", "db"))) {
            buffer.add(frame(7), 0);
            buffer.barrier(1);
            buffer.releaseUpTo(1, 30 * MS, sink);
            buffer.add(frame(200), 0);

            String scrape = prometheus.scrape();

            assertThat(scrape).contains(
                    "checkpointd_netbuffer_held_frames{domain=\"db\"} 0",
                    "checkpointd_netbuffer_held_bytes{domain=\"db\"} 0",
                    "checkpointd_netbuffer_released_frames_total{domain=\"db\"} 1",
                    "checkpointd_netbuffer_released_bytes_total{domain=\"db\"} 7",
                    "checkpointd_netbuffer_dropped_frames_total{domain=\"db\",reason=\"full\"} 1",
                    "checkpointd_netbuffer_dropped_bytes_total{domain=\"db\",reason=\"full\"} 200",
                    "checkpointd_netbuffer_dropped_frames_total{domain=\"db\",reason=\"shutdown\"} 0",
                    "checkpointd_netbuffer_release_latency_seconds_bucket{domain=\"db\",le=",
                    "checkpointd_netbuffer_release_latency_seconds_count{domain=\"db\"} 1",
                    "checkpointd_netbuffer_release_latency_seconds_sum{domain=\"db\"} 0.03");
        } finally {
            prometheus.close();
        }
    }
}
