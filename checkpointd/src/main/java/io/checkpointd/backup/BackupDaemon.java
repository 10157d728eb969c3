package io.checkpointd.backup;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.ReplicationConfig;
import io.checkpointd.libvirt.LibvirtDescription;
import io.checkpointd.libvirt.LibvirtRestorer;
import io.checkpointd.sim.RestoredSimGuest;
import io.checkpointd.sim.SimDescription;
import io.checkpointd.util.NanoClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The backup, assembled from config: the replication listener, the replica stores under {@code backup.dir},
 * and failover to a restored guest when a primary dies.
 */
public final class BackupDaemon implements AutoCloseable {
    /** Device state beyond this is refused: a QEMU guest's is well under 10 MiB. */
    static final long MAX_DEVICE_STATE_BYTES = 256L << 20;
    /** The largest batch a primary may be configured to send (replication.batch-pages). */
    static final int MAX_PAGES_PER_FRAME = 1024;

    // One thread: sessions, heartbeats, failover and the restored guest's network share it, so a domain's
    // state has a single owner (see BackupServer).
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    // A restored guest's network has its own loop: failover runs on the one above and waits for its bind.
    private final MultiThreadIoEventLoopGroup guestNetwork = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final MultiThreadIoEventLoopGroup heartbeats = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final BackupMetrics metrics;
    private final BackupServer server;
    private final LibvirtRestorer libvirt;
    private final InetSocketAddress address;

    private BackupDaemon(CheckpointdConfig config, MeterRegistry registry) {
        metrics = new BackupMetrics(registry);
        libvirt = new LibvirtRestorer(config.libvirt(), guestNetwork.next(), registry);
        // The primary's description says which driver runs the guest.
        FailoverController.Restorer restorer = new FailoverController.Restorer() {
            @Override
            public AutoCloseable restore(String domain, String description, Path replica, byte[] deviceState,
                                         Path diskImage, Path ramInPlace) throws Exception {
                return LibvirtDescription.describes(description)
                        ? libvirt.restore(domain, description, replica, deviceState, diskImage, ramInPlace)
                        : RestoredSimGuest.start(domain, SimDescription.parse(description), replica, deviceState,
                                diskImage, guestNetwork.next(), registry);
            }

            @Override
            public String cannotRestore(String description) {
                return LibvirtDescription.describes(description) ? libvirt.cannotRestore(description) : null;
            }

            @Override
            public void prepare(String domain, String description, Path diskImage,
                                FailoverController.StandbyListener listener) {
                if (LibvirtDescription.describes(description)) {
                    libvirt.prepare(domain, description, diskImage, listener);
                }
            }

            @Override
            public void unprepare(String domain) {
                libvirt.unprepare(domain);
            }
        };
        server = new BackupServer(config.backup().dir(), metrics, MAX_DEVICE_STATE_BYTES, config.failureDetector(),
                restorer, registry, NanoClock.SYSTEM);
        ReplicationConfig rc = config.replication();
        address = server.start(group, heartbeats, rc.listen(), Math.toIntExact(rc.maxFrameBytes()), MAX_PAGES_PER_FRAME);
    }

    public static BackupDaemon start(CheckpointdConfig config, MeterRegistry registry) {
        return new BackupDaemon(config, registry);
    }

    public InetSocketAddress address() {
        return address;
    }

    public BackupMetrics metrics() {
        return metrics;
    }

    public BackupServer server() {
        return server;
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        server.close();
        libvirt.close();
        guestNetwork.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        heartbeats.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
