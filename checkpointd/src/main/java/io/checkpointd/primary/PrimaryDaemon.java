package io.checkpointd.primary;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.DomainConfig;
import io.checkpointd.domain.ProtectedDomain;
import io.checkpointd.libvirt.LibvirtAttachment;
import io.checkpointd.config.Compression;
import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.config.ReplicationConfig;
import io.checkpointd.failure.HeartbeatChannel;
import io.checkpointd.failure.PeerMonitor;
import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.net.HeldEgress;
import io.checkpointd.netbuffer.OutputBuffer;
import io.checkpointd.replication.wire.FrameCodec;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.util.AgentRunner;
import io.checkpointd.util.NanoClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary, assembled from config: the protected guest, its network attachment with output commit,
 * the replication connection, the sender and the epoch loop. {@link #close()} stops them in reverse.
 */
public final class PrimaryDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryDaemon.class);
    private static final long RECONNECT_DELAY_NS = TimeUnit.MILLISECONDS.toNanos(500);

    private final CheckpointdConfig config;
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final PrimaryMetrics metrics;
    private final DirtyStats dirtyStats = new DirtyStats();
    private final InitialSyncStats syncStats = new InitialSyncStats();
    private final GuestAttachment guest;
    private final StagingPool pool;
    private final CheckpointProgress progress = new CheckpointProgress();
    private final PrimaryClient client;
    private final CheckpointSender sender;
    private final AgentRunner epochRunner;
    private final HeartbeatChannel heartbeats;
    private final EpochWriteLog diskLog;
    private volatile Consumer<Throwable> onGuestLost = failure -> { };
    private final AtomicBoolean lostOrStopping = new AtomicBoolean();
    /** The guest's disk changes one epoch may hold before the backup needs a full copy of the disk. */
    private static final long MAX_HELD_DISK_BYTES = 256L << 20;
    /** Staging reserved per in-flight checkpoint at start (32 MiB of 4 KiB pages); beyond it, buffers grow. */
    private static final long RESERVED_STAGING_PAGES = 8192;

    private PrimaryDaemon(CheckpointdConfig config, MeterRegistry registry, Path runDir) throws IOException {
        this.config = config;
        String domain = config.domain().name();
        NanoClock clock = NanoClock.SYSTEM;
        OutputBuffer outputBuffer = new OutputBuffer(config.netBuffer().maxHeldBytes(),
                config.netBuffer().maxHeldFrames(), registry, Tags.of("domain", domain));
        boolean libvirt = DomainConfig.LIBVIRT.equals(config.domain().driver());
        boolean hasDisk = libvirt ? config.libvirt().hasDisk() : config.sim().diskBytes() > 0;
        diskLog = hasDisk ? new EpochWriteLog(MAX_HELD_DISK_BYTES, registry, Tags.of("domain", domain)) : null;
        try {
            guest = libvirt
                    ? LibvirtAttachment.start(config, group.next(), outputBuffer, clock, diskLog, registry)
                    : SimAttachment.start(config, runDir, group.next(), outputBuffer, clock, diskLog);
        } catch (IOException | RuntimeException e) {
            outputBuffer.close();
            if (diskLog != null) {
                diskLog.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        ProtectedDomain protectedDomain = guest.domain();
        HeldEgress egress = guest.egress();
        metrics = new PrimaryMetrics(registry, domain, guest.tracker().name());
        int pageSizeBytes = protectedDomain.memory().pageSizeBytes();
        pool = new StagingPool(pageSizeBytes);
        pool.reserve(config.epoch().maxInFlight(),
                (int) Math.min(protectedDomain.memory().pageCount(), RESERVED_STAGING_PAGES));
        ReplicationConfig rc = config.replication();
        FailureDetectorConfig detection = config.failureDetector();
        long sessionToken = new SecureRandom().nextLong();
        PeerMonitor backupMonitor = new PeerMonitor(detection.suspectAfterNs(), detection.deadAfterNs(), registry,
                Tags.of("domain", domain, "peer", "backup"));
        heartbeats = HeartbeatChannel.open(group, "0.0.0.0", 0, detection.heartbeatIntervalNs(), sessionToken,
                clock::nanoTime, backupMonitor);
        Hello hello = new Hello(FrameCodec.PROTOCOL_VERSION, domain, protectedDomain.memory().ramBytes(),
                pageSizeBytes, heartbeats.localPort(), sessionToken, guest.description());
        client = new PrimaryClient(group, rc.backup(), hello, progress, egress, metrics, clock, RECONNECT_DELAY_NS,
                rc.connectTimeoutNs(), Math.toIntExact(rc.maxFrameBytes()), rc.batchPages(), detection,
                backupMonitor, heartbeats);
        sender = new CheckpointSender(domain, client, pool, protectedDomain.memory(), metrics, rc.batchPages(),
                rc.compression() == Compression.LZ4).start();
        boolean live = config.epoch().liveFullSync() || diskLog != null;
        if (!config.epoch().liveFullSync() && diskLog != null) {
            LOG.info("{}: full checkpoints are taken live anyway: a guest with a mirrored disk needs it", domain);
        }
        EpochLoop loop = new EpochLoop(protectedDomain, client, egress, pool, sender, progress, metrics, dirtyStats,
                syncStats, clock, config.epoch().intervalNs(), config.epoch().maxInFlight(), live, config.preCopy(),
                guest.tracker());
        if (diskLog != null) {
            loop.attachDisk(diskLog);
            sender.attachDisk(guest.diskImage(), guest.diskBytes());
        }
        client.start();
        epochRunner = new AgentRunner(loop, clock, this::guestLost).start();
        guest.lost().thenAccept(reason -> guestLost(new IllegalStateException(domain + ": " + reason)));
        LOG.info("primary for {} started: {} of guest RAM, epoch {} ms, {}, backup {}", domain,
                protectedDomain.memory().ramBytes(), TimeUnit.NANOSECONDS.toMillis(config.epoch().intervalNs()),
                guest.summary(), rc.backup());
    }

    /** Starts the primary; the sim guest's RAM file goes in {@code runDir}. */
    public static PrimaryDaemon start(CheckpointdConfig config, MeterRegistry registry, Path runDir) throws IOException {
        return new PrimaryDaemon(config, registry, runDir);
    }

    /** The sim guest's service address; null for other drivers. */
    public InetSocketAddress serviceAddress() {
        return guest instanceof SimAttachment sim ? sim.serviceAddress() : null;
    }

    /**
     * What to do when the guest can no longer be protected: its QEMU exited, or the epoch loop stopped on
     * an error (pausing failed, or a bug). Called once at most, never after {@link #close()} began. The
     * command line fences the guest and hands it over to the backup; in-process users (tests, benchmarks)
     * keep the default, which does nothing (the epoch loop has logged the error).
     */
    public void onGuestLost(Consumer<Throwable> handler) {
        this.onGuestLost = handler;
    }

    private void guestLost(Throwable failure) {
        if (lostOrStopping.compareAndSet(false, true)) {
            onGuestLost.accept(failure);
        }
    }

    /** Asks the backup to take the guest over now; for a primary that has stopped a guest it cannot protect. */
    public void handOverToBackup() {
        client.handOver();
    }

    /** Stops the guest here at once, before a hand-over (see {@link GuestAttachment#fence()}). */
    public void fenceGuest() {
        guest.fence();
    }

    public GuestAttachment guest() {
        return guest;
    }

    public PrimaryMetrics metrics() {
        return metrics;
    }

    public DirtyStats dirtyStats() {
        return dirtyStats;
    }

    public InitialSyncStats initialSync() {
        return syncStats;
    }

    public CheckpointdConfig config() {
        return config;
    }

    public long guestRingDrops() {
        return guest instanceof SimAttachment sim ? sim.ringDrops() : 0;
    }

    @Override
    public void close() {
        lostOrStopping.set(true); // the guest stopping now is no loss
        epochRunner.close();
        sender.close();
        client.close();
        guest.close();
        if (diskLog != null) {
            diskLog.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        pool.close();
    }
}
