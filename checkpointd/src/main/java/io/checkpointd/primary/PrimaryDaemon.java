package io.checkpointd.primary;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.Compression;
import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.config.ReplicationConfig;
import io.checkpointd.failure.HeartbeatChannel;
import io.checkpointd.failure.PeerMonitor;
import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.sim.SimDescription;
import io.checkpointd.sim.SimDisk;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.TrackerChoice;
import io.checkpointd.dirty.TrackerOffer;
import io.checkpointd.dirty.TrackingMode;
import io.checkpointd.net.HeldEgress;
import io.checkpointd.netbuffer.OutputBuffer;
import io.checkpointd.replication.wire.FrameCodec;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.sim.SimGuest;
import io.checkpointd.sim.SimNetwork;
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
    private final OutputBuffer outputBuffer;
    private final SimNetwork network;
    private final HeldEgress egress;
    private final SimGuest guest;
    private final InetSocketAddress serviceAddress;
    private final StagingPool pool;
    private final CheckpointProgress progress = new CheckpointProgress();
    private final PrimaryClient client;
    private final CheckpointSender sender;
    private final AgentRunner epochRunner;
    private final HeartbeatChannel heartbeats;
    private final DirtyTracker tracker;
    private final EpochWriteLog diskLog;
    /** The guest's disk changes one epoch may hold before the backup needs a full copy of the disk. */
    private static final long MAX_HELD_DISK_BYTES = 256L << 20;
    /** Staging reserved per in-flight checkpoint at start (32 MiB of 4 KiB pages); beyond it, buffers grow. */
    private static final long RESERVED_STAGING_PAGES = 8192;

    private PrimaryDaemon(CheckpointdConfig config, MeterRegistry registry, Path runDir) throws IOException {
        this.config = config;
        String domain = config.domain().name();
        NanoClock clock = NanoClock.SYSTEM;
        network = new SimNetwork(group.next());
        outputBuffer = new OutputBuffer(config.netBuffer().maxHeldBytes(), config.netBuffer().maxHeldFrames(), registry,
                Tags.of("domain", domain));
        egress = new HeldEgress(network.loop(), outputBuffer, network::sendReleased, clock,
                config.netBuffer().outputCommit());
        diskLog = config.sim().diskBytes() == 0 ? null
                : new EpochWriteLog(MAX_HELD_DISK_BYTES, registry, Tags.of("domain", domain));
        Path diskImage = runDir.resolve(domain + ".disk");
        SimDisk disk = diskLog == null ? null : SimDisk.open(diskImage, config.sim().diskBytes(), diskLog);
        guest = SimGuest.start(domain, config.sim(), runDir.resolve(domain + ".ram"), network, disk);
        try {
            tracker = chooseTracker(config, guest);
        } catch (RuntimeException e) {
            guest.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        metrics = new PrimaryMetrics(registry, domain, tracker.name());
        serviceAddress = network.bind("127.0.0.1", config.sim().servicePort(), egress, guest::receive);
        pool = new StagingPool(config.sim().pageSizeBytes());
        pool.reserve(config.epoch().maxInFlight(), (int) Math.min(guest.memory().pageCount(), RESERVED_STAGING_PAGES));
        ReplicationConfig rc = config.replication();
        FailureDetectorConfig detection = config.failureDetector();
        long sessionToken = new SecureRandom().nextLong();
        PeerMonitor backupMonitor = new PeerMonitor(detection.suspectAfterNs(), detection.deadAfterNs(), registry,
                Tags.of("domain", domain, "peer", "backup"));
        heartbeats = HeartbeatChannel.open(group, "0.0.0.0", 0, detection.heartbeatIntervalNs(), sessionToken,
                clock::nanoTime, backupMonitor);
        String description = new SimDescription(config.sim(), serviceAddress.getHostString(), serviceAddress.getPort())
                .toJson();
        Hello hello = new Hello(FrameCodec.PROTOCOL_VERSION, domain, guest.memory().ramBytes(),
                guest.memory().pageSizeBytes(), heartbeats.localPort(), sessionToken, description);
        client = new PrimaryClient(group, rc.backup(), hello, progress, egress, metrics, clock, RECONNECT_DELAY_NS,
                rc.connectTimeoutNs(), Math.toIntExact(rc.maxFrameBytes()), rc.batchPages(), detection,
                backupMonitor, heartbeats);
        sender = new CheckpointSender(domain, client, pool, guest.memory(), metrics, rc.batchPages(),
                rc.compression() == Compression.LZ4).start();
        boolean live = config.epoch().liveFullSync() || disk != null;
        if (!config.epoch().liveFullSync() && disk != null) {
            LOG.info("{}: full checkpoints are taken live anyway: a guest with a mirrored disk needs it", domain);
        }
        EpochLoop loop = new EpochLoop(guest, client, egress, pool, sender, progress, metrics, dirtyStats, syncStats,
                clock, config.epoch().intervalNs(), config.epoch().maxInFlight(), live, config.preCopy(), tracker);
        if (disk != null) {
            loop.attachDisk(diskLog);
            sender.attachDisk(diskImage, config.sim().diskBytes());
        }
        client.start();
        epochRunner = new AgentRunner(loop, clock).start();
        LOG.info("primary for {} started: {} of guest RAM, epoch {} ms, service on udp {}, backup {}", domain,
                guest.memory().ramBytes(), TimeUnit.NANOSECONDS.toMillis(config.epoch().intervalNs()),
                serviceAddress, rc.backup());
    }

    /**
     * The dirty tracker the config asks for, among what the sim guest offers (its own exact record, or a
     * scan of its RAM). Chosen while the guest is paused: a tracker starts tracking when it is built.
     */
    private static DirtyTracker chooseTracker(CheckpointdConfig config, SimGuest guest) {
        TrackerOffer offer = TrackerOffer.pageSize(guest.memory().pageSizeBytes())
                .withExact(guest.dirtyTracker())
                .withScan(guest.memory().segment());
        guest.pause();
        try {
            TrackerChoice choice = TrackerChoice.choose(TrackingMode.fromConfigName(config.domain().dirtyTracker()), offer);
            LOG.info("{}: {}", config.domain().name(), choice.logMessage());
            return choice.tracker();
        } finally {
            guest.resume();
        }
    }

    /** Starts the primary; the sim guest's RAM file goes in {@code runDir}. */
    public static PrimaryDaemon start(CheckpointdConfig config, MeterRegistry registry, Path runDir) throws IOException {
        if (!"sim".equals(config.domain().driver())) {
            throw new IllegalArgumentException("domain.driver: '" + config.domain().driver()
                    + "' is not available yet; this build protects driver 'sim' only");
        }
        return new PrimaryDaemon(config, registry, runDir);
    }

    public InetSocketAddress serviceAddress() {
        return serviceAddress;
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
        return guest.ringDrops();
    }

    @Override
    public void close() {
        epochRunner.close();
        sender.close();
        client.close();
        network.close();
        egress.close();
        if (diskLog != null) {
            diskLog.close();
        }
        if (tracker != guest.dirtyTracker()) {
            tracker.close();
        }
        guest.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        pool.close();
    }
}
