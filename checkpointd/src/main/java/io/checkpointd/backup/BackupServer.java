package io.checkpointd.backup;

import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.failure.HeartbeatChannel;
import io.checkpointd.failure.PeerMonitor;
import io.checkpointd.failure.PeerState;
import io.checkpointd.replication.ByteCounter;
import io.checkpointd.replication.Transport;
import io.checkpointd.replication.wire.FrameDecoder;
import io.checkpointd.replication.wire.FrameEncoder;
import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.failure.HeartbeatKeys;
import io.checkpointd.replication.tls.HandshakeGuard;
import io.checkpointd.replication.tls.TlsMaterial;
import io.netty.handler.ssl.SslHandler;
import io.checkpointd.replication.tls.TlsPipeline;
import io.checkpointd.replication.wire.GuestSpec;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.util.NanoClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backup's replication listener and its domains. Each connection gets a {@link BackupSession}; each
 * domain a {@link Slot}: its replica store, its failover controller and its heartbeat channel, which
 * outlive connections (a reconnecting primary finds its replica; a vanished one is still watched). One
 * domain is served by at most one connection at a time.
 *
 * <p>One owner: everything here runs on the one event loop the listener is bound to (the daemon gives it
 * a single-threaded group), so sessions, the failover poll and the standby copy never run at the same time
 * and no lock guards a domain's state. Methods for other threads ({@link #status}, {@link #isConnected},
 * {@link #slot}, {@link #store}, {@link #pollFailover(long)}) run their work on that loop and wait for it.
 * Heartbeat channels run on loops of their own and only tell their {@code PeerMonitor}.
 */
public final class BackupServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupServer.class);
    private static final long ON_LOOP_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);

    /** One protected domain on this backup. */
    public record Slot(ReplicaStore store, FailoverController failover, HeartbeatChannel heartbeats) {
        int heartbeatPort() {
            return heartbeats == null ? 0 : heartbeats.localPort();
        }
    }

    /**
     * What the status endpoint shows of one domain.
     *
     * @param connected          a primary is replicating it now
     * @param lastCommittedEpoch the newest checkpoint the replica holds; 0 when none (or after a failover
     *                           began running the guest from it)
     * @param failover           what the failover did, or null if the domain has not failed over to this host
     * @param standbyReady       whether the domain waits here created and paused (null: the driver makes none)
     */
    public record DomainStatus(String domain, boolean connected, long lastCommittedEpoch, PeerState peerState,
                               FailoverController.Outcome failover, Boolean standbyReady) {
    }

    private final Path baseDir;
    private final BackupMetrics metrics;
    private final long maxDeviceStateBytes;
    private final FailureDetectorConfig detection;
    private final GuestRestorer restorer;
    private final MeterRegistry registry;
    private final NanoClock clock;
    private final DomainConsent consent;
    private final long maxRamBytes;
    private final TlsPipeline tls;
    private final Map<String, Slot> slots = new HashMap<>();
    private final Set<String> active = new HashSet<>();
    private EventLoopGroup group;
    private String heartbeatHost = "127.0.0.1";
    private Channel serverChannel;

    /**
     * @param consent which domains this backup hosts, for which primaries
     * @param tls     TLS in front of every accepted connection; null for plain TCP (loopback) or in-VM channels
     */
    public BackupServer(Path baseDir, BackupMetrics metrics, long maxDeviceStateBytes, FailureDetectorConfig detection,
                        GuestRestorer restorer, MeterRegistry registry, NanoClock clock, DomainConsent consent,
                        TlsPipeline tls, long maxRamBytes) {
        this.consent = consent;
        this.maxRamBytes = maxRamBytes;
        this.tls = tls;
        this.baseDir = baseDir;
        this.metrics = metrics;
        this.maxDeviceStateBytes = maxDeviceStateBytes;
        this.detection = detection;
        this.restorer = restorer;
        this.registry = registry;
        this.clock = clock;
    }

    /**
     * Binds and starts accepting primaries; returns the bound address (port 0 picks a free one).
     *
     * @param eventLoops     the loop that owns every domain here (a single-threaded group)
     * @param heartbeatLoops where heartbeat channels run: not {@code eventLoops}, so that applying a large
     *                       checkpoint never delays hearing the primary (and opening one may wait for its bind)
     */
    public SocketAddress start(EventLoopGroup eventLoops, EventLoopGroup heartbeatLoops, Transport transport,
                               SocketAddress listen, int maxFrameBytes, int maxPagesPerFrame) {
        this.group = heartbeatLoops;
        if (listen instanceof InetSocketAddress inet) {
            this.heartbeatHost = inet.getHostString();
        }
        ServerBootstrap b = new ServerBootstrap().group(eventLoops).channel(transport.serverChannel());
        if (transport.isSocket()) {
            b.option(ChannelOption.SO_REUSEADDR, true).childOption(ChannelOption.TCP_NODELAY, true);
        }
        b.childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            tls.install(ch, false); // no frame is read before the primary's certificate is
                        }
                        ch.pipeline().addLast(
                                new ByteCounter(n -> { }, metrics.bytesReceived::increment),
                                new FrameDecoder(maxFrameBytes, maxPagesPerFrame),
                                new FrameEncoder(),
                                BackupSession.heartbeats(detection.heartbeatIntervalNs()),
                                new BackupSession(BackupServer.this, metrics, maxDeviceStateBytes, clock));
                    }
                });
        serverChannel = b.bind(listen).syncUninterruptibly().channel();
        long pollNs = detection.heartbeatIntervalNs() / 2;
        serverChannel.eventLoop().scheduleAtFixedRate(this::pollFailover, pollNs, pollNs, TimeUnit.NANOSECONDS);
        SocketAddress bound = serverChannel.localAddress();
        LOG.info("backup listening on {}, replicas under {}", bound, baseDir);
        return bound;
    }

    /**
     * A primary said HELLO on {@code channel}: the domain's slot, armed for failover. Nothing is created for
     * a domain this backup does not host, or for a primary not allowed for it.
     *
     * @param peerNames the names in the primary's TLS certificate (empty without TLS)
     */
    Slot acquire(Hello hello, Channel channel, List<String> peerNames) throws IOException, ProtocolViolation {
        String domain = hello.domainName();
        String refused = consent.refusal(domain, peerNames, tls != null);
        if (refused == null) {
            refused = ramRefusal(hello.guest().ramBytes());
        }
        if (refused != null) {
            if (tls != null) {
                HandshakeGuard.countRefusal(registry, "backup", "not_allowed");
            }
            throw new ProtocolViolation(refused);
        }
        if (active.contains(domain)) {
            throw new ProtocolViolation("domain '" + domain + "' is already being replicated by another primary");
        }
        String cannot = restorer.cannotRestore(hello.guest());
        if (cannot != null) {
            throw new ProtocolViolation("this backup could not restore domain '" + domain + "' after a failover: "
                    + cannot);
        }
        Slot slot = slots.get(domain);
        GuestSpec guest = hello.guest();
        if (slot != null && (slot.store().ramBytes() != guest.ramBytes()
                || slot.store().pageSizeBytes() != guest.pageSizeBytes())) {
            LOG.warn("{}: RAM or page size changed ({} -> {} bytes); starting a new replica", domain,
                    slot.store().ramBytes(), guest.ramBytes());
            slot.store().close();
            slot = new Slot(ReplicaStore.open(baseDir, domain, guest.ramBytes(), guest.pageSizeBytes()),
                    slot.failover(), slot.heartbeats());
            slots.put(domain, slot);
        }
        if (slot == null) {
            slot = newSlot(domain, hello);
            slots.put(domain, slot);
        }
        slot.store().ensureDisk(guest.diskBytes());
        slot.failover().onHello(hello, slot.store(), channel, clock.nanoTime());
        if (slot.heartbeats() != null) {
            slot.heartbeats().setSessionToken(hello.sessionToken());
            SslHandler ssl = channel.pipeline().get(SslHandler.class);
            slot.heartbeats().setKeys(ssl == null ? null : HeartbeatKeys.fromExportedMaterial(
                    TlsMaterial.exportHeartbeatMaterial(ssl.engine().getSession(), 2 * HeartbeatKeys.KEY_BYTES),
                    false));
            slot.heartbeats().setPeer(hello.heartbeatPort() != 0
                    && channel.remoteAddress() instanceof InetSocketAddress primary
                    ? new InetSocketAddress(primary.getAddress(), hello.heartbeatPort()) : null);
        }
        active.add(domain);
        return slot;
    }

    /**
     * Why a guest of {@code ramBytes} is not taken, or null: over {@code backup.max-ram}, or over this host's
     * memory (it could never run here, and its replica and standby map that much address space).
     */
    private String ramRefusal(long ramBytes) {
        long hostBytes = ((com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        if (ramBytes > maxRamBytes) {
            return "a guest of " + ramBytes + " bytes of RAM is over backup.max-ram (" + maxRamBytes + " bytes) here";
        }
        if (hostBytes > 0 && ramBytes > hostBytes) {
            return "a guest of " + ramBytes + " bytes of RAM is larger than this host's memory (" + hostBytes
                    + " bytes): it could never run here";
        }
        return null;
    }

    /** Where the replicas are kept. */
    Path baseDir() {
        return baseDir;
    }

    private Slot newSlot(String domain, Hello hello) throws IOException {
        ReplicaStore store = ReplicaStore.open(baseDir, domain, hello.guest().ramBytes(), hello.guest().pageSizeBytes());
        PeerMonitor monitor = new PeerMonitor(detection.suspectAfterNs(), detection.deadAfterNs(), registry,
                Tags.of("domain", domain, "peer", "primary"));
        HeartbeatChannel heartbeats = group == null ? null : HeartbeatChannel.open(group, heartbeatHost, 0,
                detection.heartbeatIntervalNs(), hello.sessionToken(), clock::nanoTime, monitor);
        return new Slot(store, new FailoverController(domain, monitor, restorer, metrics, clock), heartbeats);
    }

    void release(Slot slot, Channel channel) {
        active.remove(slot.store().directory().getFileName().toString());
        slot.failover().onSessionClosed(channel);
    }

    private void pollFailover() {
        long nowNs = clock.nanoTime();
        for (Slot slot : slots.values()) {
            if (slot.failover().poll(nowNs) && slot.heartbeats() != null) {
                slot.heartbeats().setPeer(null);
            }
        }
    }

    /** Runs the failover check now, on the owning loop (tests drive it with their own clock). */
    public void pollFailover(long nowNs) {
        onLoop(() -> {
            for (Slot slot : slots.values()) {
                slot.failover().poll(nowNs);
            }
            return null;
        });
    }

    /** True while a primary is connected for {@code domain}. */
    public boolean isConnected(String domain) {
        return onLoop(() -> active.contains(domain));
    }

    /** The slot of {@code domain}, or null if no primary has connected for it. */
    public Slot slot(String domain) {
        return onLoop(() -> slots.get(domain));
    }

    /**
     * Every domain this backup has seen, in name order, read on the owning loop so the picture is consistent.
     * Callable from any thread; waits at most {@code timeoutNs} (a large checkpoint being applied delays it).
     */
    public List<DomainStatus> status(long timeoutNs) throws InterruptedException, ExecutionException,
            TimeoutException {
        if (serverChannel == null) {
            return List.of();
        }
        return serverChannel.eventLoop().submit(() -> slots.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> new DomainStatus(e.getKey(), active.contains(e.getKey()),
                        e.getValue().store().lastCommittedEpoch(),
                        e.getValue().failover().monitor().state(), e.getValue().failover().outcome(),
                        e.getValue().failover().standbyReady()))
                .toList()).get(timeoutNs, TimeUnit.NANOSECONDS);
    }

    /** The store of {@code domain}, or null if no primary has connected for it. */
    public ReplicaStore store(String domain) {
        Slot slot = slot(domain);
        return slot == null ? null : slot.store();
    }

    /** Runs {@code work} on the owning loop and returns its result (at once when already on it). */
    private <T> T onLoop(Callable<T> work) {
        try {
            if (serverChannel == null || serverChannel.eventLoop().inEventLoop()) {
                return work.call();
            }
            return serverChannel.eventLoop().submit(work).get(ON_LOOP_TIMEOUT_NS, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking the backup's event loop", e);
        } catch (Exception e) {
            throw new IllegalStateException("the backup's event loop did not answer: " + e, e);
        }
    }

    /** Called after the owning loop has stopped (the daemon shuts it down first), or from it. */
    @Override
    public void close() {
        // The daemon shuts its event loops down first (connections end before stores close); then the
        // listener is already closed with them.
        if (serverChannel != null && !serverChannel.eventLoop().isShuttingDown()) {
            serverChannel.close().syncUninterruptibly();
        }
        for (Slot slot : slots.values()) {
            if (slot.heartbeats() != null) {
                slot.heartbeats().close();
            }
            slot.failover().close();
            slot.store().close();
        }
        slots.clear();
    }
}
