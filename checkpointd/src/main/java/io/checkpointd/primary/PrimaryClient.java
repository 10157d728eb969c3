package io.checkpointd.primary;

import io.checkpointd.netbuffer.OutputCommit;
import io.checkpointd.config.HostPort;
import io.checkpointd.replication.ByteCounter;
import io.checkpointd.replication.Transport;
import io.checkpointd.replication.wire.Ack;
import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.failure.HeartbeatChannel;
import io.checkpointd.failure.PeerMonitor;
import io.checkpointd.failure.PeerState;
import io.checkpointd.replication.wire.Frame;
import io.checkpointd.replication.wire.Goodbye;
import io.checkpointd.replication.wire.Handover;
import io.checkpointd.replication.wire.FrameDecoder;
import io.checkpointd.replication.wire.FrameEncoder;
import io.checkpointd.replication.wire.Heartbeat;
import io.checkpointd.failure.HeartbeatKeys;
import io.checkpointd.replication.tls.TlsMaterial;
import io.checkpointd.replication.tls.TlsPipeline;
import io.netty.handler.ssl.SslHandler;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.replication.wire.HelloAck;
import io.checkpointd.replication.wire.Standby;
import io.checkpointd.util.NanoClock;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's replication connection ({@link ReplicationLink}): connects to the backup, says HELLO,
 * turns ACKs into released output, and when the connection is lost lets held output go (the guest runs
 * unprotected rather than silent) and keeps reconnecting. Every new connection starts with a full
 * checkpoint. Its state is written on the connection's event loop and read by the epoch loop and sender.
 */
public final class PrimaryClient implements ReplicationLink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryClient.class);
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(4 << 20, 16 << 20);

    private final EventLoopGroup group;
    private final SocketAddress backup;
    private final String backupLabel;
    private final Transport transport;
    private final Consumer<ChannelPipeline> pipelineHook;
    private final Hello hello;
    private final TlsPipeline tls;
    private final CheckpointProgress progress;
    private final OutputCommit output;
    private final PrimaryMetrics metrics;
    private final NanoClock clock;
    private final long reconnectDelayNs;
    private final int connectTimeoutMs;
    private final int maxFrameBytes;
    private final int maxPagesPerFrame;
    private final Object writability = new Object();
    private final long heartbeatIntervalNs;
    private final PeerMonitor backupMonitor;
    private final HeartbeatChannel heartbeats;
    private long heartbeatSequence;
    private final AtomicBoolean fullSyncRequested = new AtomicBoolean();

    private volatile Channel channel;
    private volatile boolean ready;
    private volatile long generation;
    private volatile long minimumNextEpoch = 1;
    private volatile boolean closed;
    // After HANDOVER the backup runs the guest: output held here belongs to epochs it never got, and
    // must never be released.
    private volatile boolean handedOver;
    private volatile String lastRefusal = "";
    private volatile int refusalsInARow; // written on the connection's loop, one connection at a time
    private static final long MAX_REFUSED_RETRY_NS = TimeUnit.MINUTES.toNanos(1);
    private long connectFailures;

    PrimaryClient(EventLoopGroup group, HostPort backup, Hello hello, CheckpointProgress progress, OutputCommit output,
                  PrimaryMetrics metrics, NanoClock clock, long reconnectDelayNs, long connectTimeoutNs,
                  int maxFrameBytes, int maxPagesPerFrame, FailureDetectorConfig detection,
                  PeerMonitor backupMonitor, HeartbeatChannel heartbeats) {
        this(group, Transport.TCP, InetSocketAddress.createUnresolved(backup.host(), backup.port()), null, p -> { },
                hello, progress, output, metrics, clock, reconnectDelayNs, connectTimeoutNs, maxFrameBytes,
                maxPagesPerFrame, detection, backupMonitor, heartbeats);
    }

    /**
     * @param tls          TLS in front of the connection; null for plain TCP (loopback only) or in-VM channels
     * @param pipelineHook adds handlers after the codec, before this client's own: where tests inject faults
     */
    PrimaryClient(EventLoopGroup group, Transport transport, SocketAddress backup, TlsPipeline tls,
                  Consumer<ChannelPipeline> pipelineHook,
                  Hello hello, CheckpointProgress progress, OutputCommit output,
                  PrimaryMetrics metrics, NanoClock clock, long reconnectDelayNs, long connectTimeoutNs,
                  int maxFrameBytes, int maxPagesPerFrame, FailureDetectorConfig detection,
                  PeerMonitor backupMonitor, HeartbeatChannel heartbeats) {
        this.heartbeatIntervalNs = detection.heartbeatIntervalNs();
        this.backupMonitor = backupMonitor;
        this.heartbeats = heartbeats;
        this.group = group;
        this.transport = transport;
        this.backup = backup;
        this.backupLabel = backup instanceof InetSocketAddress inet ? inet.getHostString() + ":" + inet.getPort()
                : backup.toString();
        this.pipelineHook = pipelineHook;
        this.tls = tls;
        this.hello = hello;
        this.progress = progress;
        this.output = output;
        this.metrics = metrics;
        this.clock = clock;
        this.reconnectDelayNs = reconnectDelayNs;
        this.connectTimeoutMs = (int) TimeUnit.NANOSECONDS.toMillis(connectTimeoutNs);
        this.maxFrameBytes = maxFrameBytes;
        this.maxPagesPerFrame = maxPagesPerFrame;
    }

    void start() {
        connect();
        group.scheduleAtFixedRate(this::checkBackup, heartbeatIntervalNs, heartbeatIntervalNs / 2, TimeUnit.NANOSECONDS);
    }

    /** A connected backup that went silent (its host died, no FIN ever comes) is dropped like a closed one. */
    private void checkBackup() {
        // Polled connected or not, so that a backup killed outright shows suspect, then dead, in /status and
        // the peer-state gauge within the failure detector's times, not "alive" until it comes back.
        long nowNs = clock.nanoTime();
        PeerState state = backupMonitor.poll(nowNs);
        Channel ch = channel;
        if (!ready || ch == null) {
            return;
        }
        if (state == PeerState.DEAD) {
            LOG.error("backup {} silent for {} ms: declaring it dead", backupLabel,
                    TimeUnit.NANOSECONDS.toMillis(backupMonitor.silenceNs(nowNs)));
            ch.close();
        }
    }

    private void connect() {
        if (closed) {
            return;
        }
        Bootstrap b = new Bootstrap().group(group).channel(transport.clientChannel())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            tls.install(ch, true); // HELLO waits in the SslHandler until the backup proved who it is
                        }
                        ch.pipeline().addLast(
                                new ByteCounter(metrics.bytesWire::increment, n -> { }),
                                new FrameDecoder(maxFrameBytes, maxPagesPerFrame),
                                new FrameEncoder());
                        pipelineHook.accept(ch.pipeline());
                        ch.pipeline().addLast(
                                new IdleStateHandler(0, heartbeatIntervalNs, 0, TimeUnit.NANOSECONDS),
                                new Handler());
                    }
                });
        if (transport.isSocket()) {
            b.option(ChannelOption.TCP_NODELAY, true).option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs);
        }
        SocketAddress target = backup instanceof InetSocketAddress inet && inet.isUnresolved()
                ? new InetSocketAddress(inet.getHostString(), inet.getPort()) : backup;
        b.connect(target).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                if (connectFailures++ % 30 == 0) {
                    LOG.warn("cannot reach backup at {}: {}; retrying every {} ms", backupLabel,
                            f.cause().getMessage(), TimeUnit.NANOSECONDS.toMillis(reconnectDelayNs));
                }
                scheduleReconnect();
            }
        });
    }

    private void scheduleReconnect() {
        if (!closed && !group.isShuttingDown()) {
            // A backup that refuses this primary will refuse it again until its operator acts: ask less
            // often (doubling up to a minute), so neither side's log fills with the same refusal.
            long delayNs = refusalsInARow == 0 ? reconnectDelayNs
                    : Math.min(MAX_REFUSED_RETRY_NS, reconnectDelayNs << Math.min(refusalsInARow, 16));
            group.schedule(this::connect, delayNs, TimeUnit.NANOSECONDS);
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<Frame> {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            connectFailures = 0;
            if (refusalsInARow == 0) {
                LOG.info("connected to backup {}; sending HELLO for domain {}", backupLabel, hello.domainName());
            }
            ctx.writeAndFlush(hello);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
            backupMonitor.onSignOfLife(clock.nanoTime());
            switch (frame) {
                case HelloAck ack when ack.accepted() -> {
                    refusalsInARow = 0;
                    lastRefusal = "";
                    minimumNextEpoch = ack.lastCommittedEpoch() + 1;
                    backupMonitor.watch(clock.nanoTime());
                    if (heartbeats != null && ack.heartbeatPort() != 0
                            && ctx.channel().remoteAddress() instanceof InetSocketAddress peer) {
                        // Keyed from this TLS session: a stranger's datagram can neither keep a dead backup
                        // alive nor, replayed, do so later (plain TCP on loopback: the token alone).
                        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                        heartbeats.setKeys(ssl == null ? null : HeartbeatKeys.fromExportedMaterial(
                                TlsMaterial.exportHeartbeatMaterial(ssl.engine().getSession(),
                                        2 * HeartbeatKeys.KEY_BYTES), true));
                        heartbeats.setPeer(new InetSocketAddress(peer.getAddress(), ack.heartbeatPort()));
                    }
                    fullSyncRequested.set(true);
                    channel = ctx.channel();
                    generation++;
                    ready = true;
                    lastRefusal = "";
                    LOG.info("backup {} accepted (its last committed epoch: {})", backupLabel, ack.lastCommittedEpoch());
                }
                case HelloAck ack -> {
                    if (!ack.rejection().equals(lastRefusal)) {
                        LOG.error("backup {} refused this primary: {}; asking again less and less often", backupLabel,
                                ack.rejection());
                        lastRefusal = ack.rejection();
                    }
                    refusalsInARow++;
                    ctx.close();
                }
                case Ack ack -> onAck(ack.epoch());
                case Standby standby -> {
                    if (metrics.backupStandby.getAndSet(standby.ready() ? 1 : 0) != (standby.ready() ? 1 : 0)) {
                        LOG.info("backup {}: {}", backupLabel, standby.ready()
                                ? "standby ready (a failover only loads the last checkpoint)"
                                : "no standby ready (a failover would first create the domain)");
                    }
                }
                case Heartbeat ignored -> {
                    // Its arrival was the sign of life recorded above.
                }
                default -> {
                    LOG.error("backup {} sent an unexpected {} frame; closing the connection", backupLabel,
                            frame.getClass().getSimpleName());
                    ctx.close();
                }
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof IdleStateEvent idle && idle.state() == IdleState.WRITER_IDLE) {
                ctx.writeAndFlush(new Heartbeat(++heartbeatSequence, clock.nanoTime(), 0));
            } else {
                ctx.fireUserEventTriggered(event);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            synchronized (writability) {
                writability.notifyAll();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() == channel && ready) {
                ready = false;
                progress.onLinkLost();
                if (!handedOver) {
                    output.releaseAll();
                }
                metrics.protectedState.set(0);
                metrics.backupStandby.set(-1);
                if (handedOver) {
                    LOG.info("disconnected from backup {} after handing the guest over; held output dropped",
                            backupLabel);
                } else if (closed) {
                    LOG.info("disconnected from backup {} (stopping)", backupLabel);
                } else {
                    LOG.warn("connection to backup {} lost; held output released, guest unprotected, reconnecting",
                            backupLabel);
                }
            }
            synchronized (writability) {
                writability.notifyAll();
            }
            scheduleReconnect();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.error("replication connection to {} failed: {}", backupLabel, cause.getMessage());
            ctx.close();
        }
    }

    private void onAck(long epoch) {
        long resumedNs = progress.onAck(epoch);
        if (resumedNs < 0) {
            return;
        }
        metrics.recordAck(clock.nanoTime() - resumedNs);
        metrics.checkpointsCommitted.increment();
        metrics.replicationLagEpochs.set(progress.outstanding());
        metrics.protectedState.set(1);
        metrics.lastCommittedEpoch.set(epoch);
        output.release(epoch);
    }

    @Override
    public boolean isReady() {
        return ready;
    }

    @Override
    public long generation() {
        return generation;
    }

    @Override
    public boolean takeFullSyncRequest() {
        return fullSyncRequested.getAndSet(false);
    }

    @Override
    public long minimumNextEpoch() {
        return minimumNextEpoch;
    }

    @Override
    public boolean send(long gen, Frame frame) {
        Channel ch = channel;
        if (gen != generation || !ready || ch == null || !ch.isActive()) {
            ReferenceCountUtil.release(frame);
            return false;
        }
        ch.write(frame, ch.voidPromise());
        return true;
    }

    @Override
    public void flush(long gen) {
        Channel ch = channel;
        if (gen == generation && ch != null) {
            ch.flush();
        }
    }

    @Override
    public void drop(String reason) {
        Channel ch = channel;
        if (ch != null && ch.isActive()) {
            LOG.error("dropping the connection to backup {} to re-synchronise: {}", backupLabel, reason);
            ch.close();
        }
    }

    @Override
    public boolean awaitWritable(long gen) throws InterruptedException {
        synchronized (writability) {
            while (true) {
                Channel ch = channel;
                if (gen != generation || !ready || ch == null || !ch.isActive()) {
                    return false;
                }
                if (ch.isWritable()) {
                    return true;
                }
                ch.flush();
                writability.wait(10);
            }
        }
    }

    /**
     * The guest is gone here: asks the backup to resume it now (HANDOVER) rather than after the primary
     * falls silent. Waits at most a second for the frame to leave; the caller then halts.
     */
    public void handOver() {
        handedOver = true;
        closed = true;
        Channel ch = channel;
        if (ch != null && ch.isActive() && ready) {
            ch.writeAndFlush(new Handover()).awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
    }

    /** Stops protecting on purpose: tells the backup (GOODBYE, so it does not fail over) and disconnects. */
    @Override
    public void close() {
        closed = true;
        Channel ch = channel;
        if (ch != null && ch.isActive()) {
            ch.writeAndFlush(new Goodbye()).awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        if (ch != null && !ch.eventLoop().isShuttingDown()) { // a stopped loop has closed its channels
            ch.close().syncUninterruptibly();
        }
        if (heartbeats != null) {
            heartbeats.close();
        }
        backupMonitor.close();
    }
}
