package io.checkpointd.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.disk.WriteListener;
import io.checkpointd.replication.wire.GuestSpec;
import io.checkpointd.disk.nbd.ListenAddress;
import io.checkpointd.disk.nbd.NbdServer;
import io.checkpointd.disk.nbd.NbdServerConfig;
import io.checkpointd.netbuffer.bridge.FrameBridge;
import io.checkpointd.netbuffer.bridge.TapDevice;
import io.checkpointd.testing.PrometheusTools;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The meters only a libvirt primary exports (its frame bridge and NBD server) are in docs/metrics.md. */
class LibvirtMetricsCatalogueTest {
    @TempDir
    Path dir;

    @Test
    void bridgeAndNbdMetersAreCatalogued() throws Exception {
        if (!"root".equals(System.getProperty("user.name")) || !Files.exists(Path.of("/dev/net/tun"))) {
            System.err.println("SKIPPED LibvirtMetricsCatalogueTest: a frame bridge needs a tap device (root, /dev/net/tun)");
            Assumptions.abort("needs root and /dev/net/tun");
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Path image = dir.resolve("disk.raw");
        Files.write(image, new byte[1 << 20]);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        String tap = "cpm" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);
        try (FrameBridge bridge = FrameBridge.start(TapDevice.open(tap), group.next(),
                new InetSocketAddress("127.0.0.1", 0), ByteBuf::release);
             NbdServer nbd = NbdServer.start(NbdServerConfig.of("vda", image,
                     new ListenAddress.Tcp(InetAddress.getLoopbackAddress(), 0)), WriteListener.NONE, registry,
                     Tags.of("domain", "d", "disk", "vda"))) {
            BridgeMetrics.register(registry, Tags.of("domain", "d"), bridge.counters());
            try (LibvirtRestorer restorer = new LibvirtRestorer(
                    io.checkpointd.config.LibvirtConfig.defaults().withWarmStandby(false), group.next(), registry)) {
                // No standby wanted: only the gauge, at 0.
                restorer.prepare("d", new GuestSpec(LibvirtDriver.NAME, 1 << 20, 4096, 0, "{}"), null, ramFile -> { });
            }
            assertThat(nbd.uri()).startsWith("nbd://");
            Set<String> families = new TreeSet<>();
            for (String line : registry.scrape().split("\n")) {
                if (line.startsWith("# TYPE checkpointd_net_bridge") || line.startsWith("# TYPE checkpointd_disk_nbd")
                        || line.startsWith("# TYPE checkpointd_standby")) {
                    families.add(line.split(" ")[2]);
                }
            }
            assertThat(families).hasSizeGreaterThanOrEqualTo(12);
            String catalogue = Files.readString(PrometheusTools.repoFile("docs/metrics.md"));
            for (String family : families) {
                assertThat(catalogue).as("docs/metrics.md lists %s", family).contains("`" + family + "`");
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
