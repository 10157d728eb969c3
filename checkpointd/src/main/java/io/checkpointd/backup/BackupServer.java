package io.checkpointd.backup;

import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.config.HostPort;
import io.checkpointd.failure.HeartbeatChannel;
import io.checkpointd.failure.PeerMonitor;
import io.checkpointd.failure.PeerState;
import io.checkpointd.replication.ByteCounter;
import io.checkpointd.replication.Transport;
import io.checkpointd.replication.wire.FrameDecoder;
import io.checkpointd.replication.wire.FrameEncoder;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.sim.SimDescription;
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
 * <p>Runs on one event loop (the daemon gives it a single-threaded group): sessions, heartbeats and the
 * failover poll never run at the same time, so no lock guards a domain's state.
 */
public final class BackupServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupServer.class);

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
    private final FailoverController.Restorer restorer;
    private final MeterRegistry registry;
    private final NanoClock clock;
    private final Map<String, Slot> slots = new HashMap<>();
    private final Set<String> active = new HashSet<>();
    private EventLoopGroup group;
    private String heartbeatHost = "127.0.0.1";
    private Channel serverChannel;

    public BackupServer(Path baseDir, BackupMetrics metrics, long maxDeviceStateBytes, FailureDetectorConfig detection,
                        FailoverController.Restorer restorer, MeterRegistry registry, NanoClock clock) {
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
     * @param heartbeatLoops where heartbeat channels run: not {@code eventLoops}, so that applying a large
     *                       checkpoint never delays hearing the primary (and opening one may wait for its bind)
     */
    public InetSocketAddress start(EventLoopGroup eventLoops, EventLoopGroup heartbeatLoops, HostPort listen,
                                   int maxFrameBytes, int maxPagesPerFrame) {
        return (InetSocketAddress) start(eventLoops, heartbeatLoops, Transport.TCP,
                new InetSocketAddress(listen.host(), listen.port()), maxFrameBytes, maxPagesPerFrame);
    }

    /** As above, over any {@link Transport}; returns the bound address. */
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

    /** A primary said HELLO on {@code channel}: the domain's slot, armed for failover. */
    synchronized Slot acquire(Hello hello, Channel channel) throws IOException, ProtocolViolation {
        String domain = hello.domainName();
        if (active.contains(domain)) {
            throw new ProtocolViolation("domain '" + domain + "' is already being replicated by another primary");
        }
        String cannot = restorer.cannotRestore(hello.description());
        if (cannot != null) {
            throw new ProtocolViolation("this backup could not restore domain '" + domain + "' after a failover: "
                    + cannot);
        }
        Slot slot = slots.get(domain);
        if (slot != null && (slot.store().ramBytes() != hello.ramBytes()
                || slot.store().pageSizeBytes() != hello.pageSizeBytes())) {
            LOG.warn("{}: RAM or page size changed ({} -> {} bytes); starting a new replica", domain,
                    slot.store().ramBytes(), hello.ramBytes());
            slot.store().close();
            slot = new Slot(ReplicaStore.open(baseDir, domain, hello.ramBytes(), hello.pageSizeBytes()),
                    slot.failover(), slot.heartbeats());
            slots.put(domain, slot);
        }
        if (slot == null) {
            slot = newSlot(domain, hello);
            slots.put(domain, slot);
        }
        slot.store().ensureDisk(SimDescription.diskBytesOf(hello.description()));
        slot.failover().onHello(hello, slot.store(), channel, clock.nanoTime());
        if (slot.heartbeats() != null) {
            slot.heartbeats().setSessionToken(hello.sessionToken());
            slot.heartbeats().setPeer(hello.heartbeatPort() != 0
                    && channel.remoteAddress() instanceof InetSocketAddress primary
                    ? new InetSocketAddress(primary.getAddress(), hello.heartbeatPort()) : null);
        }
        active.add(domain);
        return slot;
    }

    private Slot newSlot(String domain, Hello hello) throws IOException {
        ReplicaStore store = ReplicaStore.open(baseDir, domain, hello.ramBytes(), hello.pageSizeBytes());
        PeerMonitor monitor = new PeerMonitor(detection.suspectAfterNs(), detection.deadAfterNs(), registry,
                Tags.of("domain", domain, "peer", "primary"));
        HeartbeatChannel heartbeats = group == null ? null : HeartbeatChannel.open(group, heartbeatHost, 0,
                detection.heartbeatIntervalNs(), hello.sessionToken(), clock::nanoTime, monitor);
        return new Slot(store, new FailoverController(domain, monitor, restorer, metrics), heartbeats);
    }

    synchronized void release(Slot slot, Channel channel) {
        active.remove(slot.store().directory().getFileName().toString());
        slot.failover().onSessionClosed(channel);
    }

    private synchronized void pollFailover() {
        long nowNs = clock.nanoTime();
        for (Slot slot : slots.values()) {
            if (slot.failover().poll(nowNs) && slot.heartbeats() != null) {
                slot.heartbeats().setPeer(null);
            }
        }
    }

    /** Runs the failover check now (tests drive it with their own clock). */
    public synchronized void pollFailover(long nowNs) {
        for (Slot slot : slots.values()) {
            slot.failover().poll(nowNs);
        }
    }

    /** True while a primary is connected for {@code domain}. */
    public synchronized boolean isConnected(String domain) {
        return active.contains(domain);
    }

    /** The slot of {@code domain}, or null if no primary has connected for it. */
    public synchronized Slot slot(String domain) {
        return slots.get(domain);
    }

    /**
     * Every domain this backup has seen, in name order. Read on the event loop that owns the domains, so
     * the picture is consistent; callable from any thread, it waits at most {@code timeoutNs} (a large
     * checkpoint being applied delays it).
     */
    public List<DomainStatus> status(long timeoutNs) throws InterruptedException, ExecutionException,
            TimeoutException {
        if (serverChannel == null) {
            return List.of();
        }
        return serverChannel.eventLoop().submit(() -> {
            synchronized (this) {
                return slots.entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .map(e -> new DomainStatus(e.getKey(), active.contains(e.getKey()),
                                e.getValue().store().lastCommittedEpoch(),
                                e.getValue().failover().monitor().state(), e.getValue().failover().outcome(),
                                e.getValue().failover().standbyReady()))
                        .toList();
            }
        }).get(timeoutNs, TimeUnit.NANOSECONDS);
    }

    /** The store of {@code domain}, or null if no primary has connected for it. */
    public synchronized ReplicaStore store(String domain) {
        Slot slot = slots.get(domain);
        return slot == null ? null : slot.store();
    }

    @Override
    public synchronized void close() {
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
