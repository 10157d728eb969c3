package io.checkpointd.disk.nbd;

import io.checkpointd.disk.Images;
import io.checkpointd.disk.WriteListener;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The server's meters as Prometheus shows them, driven by the raw client (no qemu-utils needed). */
@Timeout(60)
class NbdServerMetricsTest {
    @TempDir
    Path dir;

    @Test
    void requestsErrorsBytesSyncsAndConnectionsAreCounted() throws Exception {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Path image = Images.create(dir.resolve("disk.img"), 1 << 20);
        try (NbdServer server = NbdServer.start(NbdServerConfig.of("vda", image, ListenAddress.Tcp.loopback(0)),
                WriteListener.NONE, prometheus, Tags.of("disk", "vda"))) {
            try (RawNbdClient client = RawNbdClient.open(server.localAddress(), "vda")) {
                client.sendWrite(Nbd.CMD_FLAG_FUA, 1, 0, new byte[4096]);
                client.readReply(0);
                client.sendRequest(0, Nbd.CMD_READ, 2, 0, 1000);
                client.readReply(1000);
                client.sendRequest(0, Nbd.CMD_TRIM, 3, 0, 8192);
                client.readReply(0);
                client.sendRequest(0, Nbd.CMD_FLUSH, 4, 0, 0);
                client.readReply(0);
                client.sendRequest(0, Nbd.CMD_READ, 5, 1 << 20, 1);
                assertThat(client.readReply(0).error()).isEqualTo(Nbd.EINVAL);
                assertThat(prometheus.scrape()).contains("checkpointd_disk_nbd_connections{disk=\"vda\"} 1");
                client.sendRequest(0, Nbd.CMD_DISC, 6, 0, 0);
                client.assertClosedByServer();
            }
            awaitDisconnect(prometheus);
            assertThat(prometheus.scrape()).contains(
                    "checkpointd_disk_nbd_requests_total{command=\"write\",disk=\"vda\"} 1",
                    "checkpointd_disk_nbd_requests_total{command=\"read\",disk=\"vda\"} 2",
                    "checkpointd_disk_nbd_requests_total{command=\"trim\",disk=\"vda\"} 1",
                    "checkpointd_disk_nbd_requests_total{command=\"flush\",disk=\"vda\"} 1",
                    "checkpointd_disk_nbd_requests_total{command=\"disc\",disk=\"vda\"} 1",
                    "checkpointd_disk_nbd_errors_total{disk=\"vda\",error=\"EINVAL\"} 1",
                    "checkpointd_disk_nbd_written_bytes_total{disk=\"vda\"} 4096",
                    "checkpointd_disk_nbd_read_bytes_total{disk=\"vda\"} 1000",
                    "checkpointd_disk_nbd_zeroed_bytes_total{disk=\"vda\"} 8192",
                    "checkpointd_disk_nbd_syncs_total{disk=\"vda\",reason=\"fua\"} 1",
                    "checkpointd_disk_nbd_syncs_total{disk=\"vda\",reason=\"flush\"} 1",
                    "checkpointd_disk_nbd_connections{disk=\"vda\"} 0",
                    "checkpointd_disk_nbd_disconnects_total{disk=\"vda\",reason=\"client\"} 1");
        }
        assertThat(prometheus.getMeters()).as("closing the server unregisters its meters").isEmpty();
        prometheus.close();
    }

    /**
     * QEMU flushes on every stop and at the end of every migration, with nothing written in between: only a
     * flush with something to make durable costs an fsync.
     */
    @Test
    void aFlushWithNothingWrittenSinceTheLastFsyncIsAnsweredWithoutOne() throws Exception {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Path image = Images.create(dir.resolve("disk.img"), 1 << 20);
        try (NbdServer server = NbdServer.start(NbdServerConfig.of("vda", image, ListenAddress.Tcp.loopback(0)),
                WriteListener.NONE, prometheus, Tags.of("disk", "vda"));
             RawNbdClient client = RawNbdClient.open(server.localAddress(), "vda")) {
            client.sendWrite(0, 1, 0, new byte[4096]);
            client.readReply(0);
            for (int handle = 2; handle <= 5; handle++) { // one fsync, then three with nothing new
                client.sendRequest(0, Nbd.CMD_FLUSH, handle, 0, 0);
                assertThat(client.readReply(0).error()).isZero();
            }
            client.sendWrite(0, 6, 8192, new byte[4096]);
            client.readReply(0);
            client.sendRequest(0, Nbd.CMD_FLUSH, 7, 0, 0);
            client.readReply(0);
            client.sendWrite(Nbd.CMD_FLAG_FUA, 8, 0, new byte[4096]); // a FUA write always has something new
            client.readReply(0);
            assertThat(prometheus.scrape()).contains(
                    "checkpointd_disk_nbd_syncs_total{disk=\"vda\",reason=\"flush\"} 2",
                    "checkpointd_disk_nbd_syncs_total{disk=\"vda\",reason=\"fua\"} 1",
                    "checkpointd_disk_nbd_syncs_skipped_total{disk=\"vda\"} 3");
        }
        prometheus.close();
    }

    /** The server notices the closed connection on its own thread, a moment after the client does. */
    private static void awaitDisconnect(PrometheusMeterRegistry prometheus) throws InterruptedException {
        for (int i = 0; i < 200 && !prometheus.scrape().contains("checkpointd_disk_nbd_connections{disk=\"vda\"} 0"); i++) {
            Thread.sleep(10);
        }
    }
}
