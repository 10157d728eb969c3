package io.checkpointd.primary;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.Compression;
import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.config.ReplicationConfig;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.driver.Driver;
import io.checkpointd.driver.GuestAttachment;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.failure.HeartbeatChannel;
import io.checkpointd.failure.PeerMonitor;
import io.checkpointd.launch.LaunchContext;
import io.checkpointd.netbuffer.HeldEgress;
import io.checkpointd.netbuffer.OutputBuffer;
import io.checkpointd.replication.tls.TlsPipeline;
import io.checkpointd.replication.wire.FrameCodec;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.util.AgentRunner;
import io.checkpointd.util.NanoClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary, launched from a {@link LaunchContext}: the driver's guest with output commit on its network,
 * the replication connection, the sender and the epoch loop. {@link #close()} stops them in reverse.
 *
 * <p>When the guest can no longer be protected (its QEMU exited, or the epoch loop stopped on an error),
 * the daemon fences it, asks the backup to take over (HANDOVER), and then runs the context's
 * {@link LaunchContext#onHandedOver} action, which by default halts the process with status
 * {@value LaunchContext#EXIT_GUEST_LOST}: a primary that lost its guest has nothing left to do.
 */
public final class PrimaryDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryDaemon.class);
    private static final long RECONNECT_DELAY_NS = TimeUnit.MILLISECONDS.toNanos(500);
    /** Fencing and HANDOVER get this long before the hand-over action runs regardless. */
    private static final long FENCE_TIMEOUT_MS = 10_000;
    /** The guest's disk changes one epoch may hold before the backup needs a full copy of the disk. */
    private static final long MAX_HELD_DISK_BYTES = 256L << 20;
    /** Staging reserved per in-flight checkpoint at start (32 MiB of 4 KiB pages); beyond it, buffers grow. */
    private static final long RESERVED_STAGING_PAGES = 8192;

    private final LaunchContext ctx;
    private final EventLoopGroup ownLoops; // null when the context brought its loops
    private final PrimaryMetrics metrics;
    private final DirtyStats dirtyStats = new DirtyStats();
    private final InitialSyncStats syncStats = new InitialSyncStats();
    private final GuestAttachment guest;
    private final StagingPool pool;
    private final CheckpointProgress progress = new CheckpointProgress();
    private final PrimaryClient client;
    private final AgentRunner senderRunner;
    private final EpochLoop loop;
    private final AgentRunner epochRunner; // null when the context's caller invokes the epoch loop
    private final HeartbeatChannel heartbeats; // null over a transport without sockets
    private final EpochWriteLog diskLog;
    private final AtomicBoolean lostOrStopping = new AtomicBoolean();

    private PrimaryDaemon(LaunchContext ctx) throws IOException {
        this.ctx = ctx;
        CheckpointdConfig config = ctx.config();
        String domain = config.domain().name();
        Driver driver = ctx.driver(config.domain().driver());
        NanoClock clock = ctx.clock();
        MeterRegistry registry = ctx.registry();
        ownLoops = ctx.ioLoops() == null ? ctx.transport().newGroup(2) : null;
        EventLoopGroup loops = ownLoops != null ? ownLoops : ctx.ioLoops();
        OutputBuffer outputBuffer = new OutputBuffer(config.netBuffer().maxHeldBytes(),
                config.netBuffer().maxHeldFrames(), registry, Tags.of("domain", domain));
        diskLog = driver.mirrorsDisk() ? new EpochWriteLog(MAX_HELD_DISK_BYTES, registry, Tags.of("domain", domain))
                : null;
        try {
            guest = driver.attach(new Driver.Attach(domain, loops.next(), outputBuffer, clock, diskLog, registry));
        } catch (IOException | RuntimeException e) {
            outputBuffer.close();
            if (diskLog != null) {
                diskLog.close();
            }
            if (ownLoops != null) {
                ownLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            throw e;
        }
        ProtectedDomain protectedDomain = guest.domain();
        HeldEgress egress = guest.egress();
        metrics = new PrimaryMetrics(registry, domain, guest.tracker().name());
        pool = new StagingPool(protectedDomain.memory().pageSizeBytes());
        pool.reserve(config.epoch().maxInFlight(),
                (int) Math.min(protectedDomain.memory().pageCount(), RESERVED_STAGING_PAGES));
        ReplicationConfig rc = config.replication();
        FailureDetectorConfig detection = config.failureDetector();
        long sessionToken = new SecureRandom().nextLong();
        PeerMonitor backupMonitor = new PeerMonitor(detection.suspectAfterNs(), detection.deadAfterNs(), registry,
                Tags.of("domain", domain, "peer", "backup"));
        heartbeats = ctx.transport().isSocket() ? HeartbeatChannel.open(loops, "0.0.0.0", 0,
                detection.heartbeatIntervalNs(), sessionToken, clock::nanoTime, backupMonitor) : null;
        Hello hello = new Hello(FrameCodec.PROTOCOL_VERSION, domain, heartbeats == null ? 0 : heartbeats.localPort(),
                sessionToken, guest.guest());
        TlsPipeline tls = ctx.tls() == null ? null
                : new TlsPipeline(ctx.tls(), "primary", config.replication().tls().backupName(), registry);
        client = new PrimaryClient(loops, ctx.transport(), ctx.backupAddress(), tls, ctx.replicationPipeline(), hello,
                progress, egress, metrics, clock, RECONNECT_DELAY_NS, rc.connectTimeoutNs(),
                Math.toIntExact(rc.maxFrameBytes()), rc.batchPages(), detection, backupMonitor, heartbeats);
        CheckpointSender sender = new CheckpointSender(domain, client, pool, protectedDomain.memory(), metrics,
                rc.batchPages(), rc.compression() == Compression.LZ4);
        // A guest with a mirrored disk needs its full checkpoints live: the disk image is copied while it runs.
        boolean live = config.epoch().liveFullSync() || diskLog != null;
        if (!config.epoch().liveFullSync() && diskLog != null) {
            LOG.info("{}: full checkpoints are taken live anyway: a guest with a mirrored disk needs it", domain);
        }
        loop = new EpochLoop(protectedDomain, client, egress, pool, sender, progress, metrics, dirtyStats,
                syncStats, clock, config.epoch().intervalNs(), config.epoch().maxInFlight(), live, config.preCopy(),
                guest.tracker());
        if (diskLog != null) {
            loop.attachDisk(diskLog);
            sender.attachDisk(guest.diskImage(), guest.guest().diskBytes());
        }
        senderRunner = sender.start(clock, this::guestLost);
        client.start();
        epochRunner = ctx.invokeEpochs() ? null : new AgentRunner(loop, clock, this::guestLost).start();
        guest.lost().thenAccept(reason -> guestLost(new IllegalStateException(domain + ": " + reason)));
        LOG.info("primary for {} started: {} guest, {} of RAM, epoch {} ms, {}, backup {}", domain, driver.name(),
                protectedDomain.memory().ramBytes(), TimeUnit.NANOSECONDS.toMillis(config.epoch().intervalNs()),
                guest.summary(), ctx.backupAddress());
    }

    /** Starts the primary the context describes; the context is concluded (checked) first. */
    public static PrimaryDaemon launch(LaunchContext ctx) throws IOException {
        return new PrimaryDaemon(ctx.conclude());
    }

    /**
     * The guest can no longer be checkpointed. The backup holds a consistent checkpoint, and every output the
     * guest released is in it: so stop the guest here first (it must never run here and on the backup at
     * once), send HANDOVER, and give up without GOODBYE; the backup resumes the guest from its last committed
     * checkpoint at once (or, if HANDOVER is lost, once the silence says the primary is dead). Runs once at
     * most, never after {@link #close()} began.
     */
    private void guestLost(Throwable failure) {
        if (!lostOrStopping.compareAndSet(false, true)) {
            return;
        }
        LOG.error("protection failed: {}; stopping the guest, handing it over to the backup (which resumes it "
                + "from its last committed checkpoint)", failure.toString());
        Thread fence = Thread.ofPlatform().name("fence").start(() -> {
            guest.fence();
            client.handOver();
        });
        try {
            fence.join(FENCE_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ctx.onHandedOver().run();
    }

    /**
     * The epoch loop, for a caller that invokes it ({@link LaunchContext#invokeEpochs}); null when the daemon
     * runs it on its own thread.
     */
    public EpochLoop epochLoop() {
        return epochRunner == null ? loop : null;
    }

    /** True while the backup has accepted this primary and replication runs. */
    public boolean isConnected() {
        return client.isReady();
    }

    /** Stops protection on purpose: GOODBYE to the backup, then the connection closes (the guest runs on). */
    public void disconnect() {
        client.close();
    }

    /** The replication connection (tests break and hand over through it). */
    PrimaryClient client() {
        return client;
    }

    /** Checkpoints sent, committed and acknowledged (tests in this package watch ACKs through it). */
    CheckpointProgress progress() {
        return progress;
    }

    /** Whether replication runs over mutual TLS (false: plain TCP on loopback, or in-VM channels). */
    public boolean tls() {
        return ctx.tls() != null;
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
        return ctx.config();
    }

    @Override
    public void close() {
        lostOrStopping.set(true); // the guest stopping now is no loss
        if (epochRunner != null) {
            epochRunner.close();
        }
        senderRunner.close();
        client.close();
        guest.close(); // the client closed the heartbeat channel
        if (diskLog != null) {
            diskLog.close();
        }
        if (ownLoops != null) {
            ownLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        pool.close();
    }
}
