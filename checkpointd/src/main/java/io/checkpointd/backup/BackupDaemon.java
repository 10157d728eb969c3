package io.checkpointd.backup;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.ReplicationConfig;
import io.checkpointd.driver.Driver;
import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.launch.LaunchContext;
import io.checkpointd.replication.tls.TlsPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backup, launched from a {@link LaunchContext}: the replication listener, the replica stores under
 * {@code backup.dir}, and failover to a guest restored by the driver the primary named in HELLO (any of the
 * context's drivers).
 */
public final class BackupDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupDaemon.class);
    /**
     * Device state beyond this is refused: a QEMU guest's is well under 10 MiB. Public for the send-path
     * benchmark in bench/, which receives with the backup's limits.
     */
    public static final long MAX_DEVICE_STATE_BYTES = 256L << 20;
    /**
     * The largest batch a primary may be configured to send (replication.batch-pages). Public for the
     * send-path benchmark in bench/, which receives with the backup's limits.
     */
    public static final int MAX_PAGES_PER_FRAME = 1024;

    // One thread: sessions, failover and the standby copy share it, so a domain's state has a single owner
    // (see BackupServer). Null when the context brought its own.
    private final EventLoopGroup ownLoops;
    // Heartbeats have their own loop, so that applying a large checkpoint never delays hearing the primary.
    private final EventLoopGroup ownHeartbeats;
    // A restored guest's network has its own loop: failover runs on the one above and waits for its bind.
    private final MultiThreadIoEventLoopGroup guestNetwork = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final BackupMetrics metrics;
    private final BackupServer server;
    private final GuestRestorer restorers;
    private final SocketAddress address;

    private BackupDaemon(LaunchContext ctx) {
        CheckpointdConfig config = ctx.config();
        usableDirectory(config.backup().dir());
        metrics = new BackupMetrics(ctx.registry());
        Map<String, GuestRestorer> byDriver = new LinkedHashMap<>();
        for (Driver driver : ctx.drivers()) {
            byDriver.put(driver.name(), driver.restorer(guestNetwork.next(), ctx.registry()));
        }
        restorers = new DriverRestorers(byDriver);
        ownLoops = ctx.ioLoops() == null ? ctx.transport().newGroup(1) : null;
        ownHeartbeats = ctx.heartbeatLoops() == null ? new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory())
                : null;
        DomainConsent consent = new DomainConsent(config.backup().domains());
        if (consent.isEmpty()) {
            LOG.warn("backup.domains names no domain: every primary will be refused until one is allowed "
                    + "(backup.domains: {NAME: [PRIMARY]}, or --allow NAME=PRIMARY)");
        }
        TlsPipeline tls = ctx.tls() == null ? null : new TlsPipeline(ctx.tls(), "backup", null, ctx.registry());
        server = new BackupServer(config.backup().dir(), metrics, MAX_DEVICE_STATE_BYTES, config.failureDetector(),
                restorers, ctx.registry(), ctx.clock(), consent, tls, config.backup().maxRamBytes());
        ReplicationConfig rc = config.replication();
        address = server.start(ownLoops != null ? ownLoops : ctx.ioLoops(),
                ownHeartbeats != null ? ownHeartbeats : ctx.heartbeatLoops(), ctx.transport(), ctx.listenAddress(),
                Math.toIntExact(rc.maxFrameBytes()), MAX_PAGES_PER_FRAME);
    }

    /**
     * The replica directory must be a writable directory (made if absent), or the backup does not start: a
     * backup that starts and then fails every HELLO leaves its primaries silently unprotected.
     */
    private static void usableDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("backup.dir " + dir + " is not usable for replicas: " + e, e);
        }
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new IllegalArgumentException("backup.dir " + dir + " is not a writable directory");
        }
    }

    /** Starts the backup the context describes; the context is concluded (checked) first. */
    public static BackupDaemon launch(LaunchContext ctx) {
        return new BackupDaemon(ctx.conclude());
    }

    /** Where the backup listens (with the port it bound, when the config asked for port 0). */
    public SocketAddress address() {
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
        if (ownLoops != null) {
            ownLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        server.close();
        restorers.close();
        guestNetwork.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        if (ownHeartbeats != null) {
            ownHeartbeats.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
