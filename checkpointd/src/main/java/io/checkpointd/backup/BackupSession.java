package io.checkpointd.backup;

import io.checkpointd.replication.wire.Ack;
import io.checkpointd.replication.wire.CheckpointBegin;
import io.checkpointd.replication.wire.CheckpointEnd;
import io.checkpointd.replication.wire.DeviceState;
import io.checkpointd.replication.wire.DiskWrite;
import io.checkpointd.replication.wire.Frame;
import io.checkpointd.replication.wire.Goodbye;
import io.checkpointd.replication.wire.Handover;
import io.checkpointd.replication.wire.FrameCodec;
import io.checkpointd.replication.wire.Heartbeat;
import io.checkpointd.replication.tls.TlsMaterial;
import io.checkpointd.replication.wire.GuestSpec;
import io.netty.handler.ssl.SslHandler;
import java.util.List;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.replication.wire.HelloAck;
import io.checkpointd.replication.wire.Pages;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.checkpointd.util.NanoClock;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backup's side of one replication connection, an explicit state machine: AWAIT_HELLO, then IDLE
 * between checkpoints and RECEIVING inside one. A checkpoint is staged apart from the replica and committed
 * only when its END verifies; a violation or a lost connection discards it, leaving the replica at the
 * previous committed checkpoint. The first checkpoint on every connection must be full, so increments are
 * never applied on top of a replica this connection did not build.
 *
 * <p>Runs on the connection's event loop, which owns the {@link ReplicaStore} while connected.
 */
public final class BackupSession extends SimpleChannelInboundHandler<Frame> {
    private static final Logger LOG = LoggerFactory.getLogger(BackupSession.class);
    private static final Pattern DOMAIN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern DRIVER_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");

    /**
     * Sends a HEARTBEAT frame whenever nothing was written for an interval, so the primary hears from us
     * even between checkpoints.
     */
    static IdleStateHandler heartbeats(long intervalNs) {
        return new IdleStateHandler(0, intervalNs, 0, TimeUnit.NANOSECONDS);
    }

    private enum State { AWAIT_HELLO, IDLE, RECEIVING, CLOSED }

    private final BackupServer server;
    private final BackupMetrics metrics;
    private final long maxDeviceStateBytes;
    private final NanoClock clock;
    private State state = State.AWAIT_HELLO;
    private BackupServer.Slot slot;
    private ReplicaStore store;
    private long heartbeatSequence;
    private IncomingCheckpoint incoming;
    private boolean haveBaseOnThisConnection;

    public BackupSession(BackupServer server, BackupMetrics metrics, long maxDeviceStateBytes, NanoClock clock) {
        this.server = server;
        this.metrics = metrics;
        this.maxDeviceStateBytes = maxDeviceStateBytes;
        this.clock = clock;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        if (slot != null) {
            slot.failover().onSignOfLife(clock.nanoTime());
        }
        try {
            switch (frame) {
                case Hello hello -> onHello(ctx, hello);
                case CheckpointBegin begin -> onBegin(begin);
                case Pages pages -> receiving("PAGES").onPages(pages);
                case DeviceState chunk -> receiving("DEVICE_STATE").onDeviceState(chunk);
                case DiskWrite write -> receiving("DISK_WRITE").onDiskWrite(write);
                case CheckpointEnd end -> onEnd(ctx, end);
                case Heartbeat ignored -> {
                    // Its arrival was the sign of life recorded above.
                }
                case Goodbye ignored -> {
                    if (slot != null) {
                        slot.failover().onGoodbye();
                    }
                    ctx.close();
                }
                case Handover ignored -> {
                    if (slot == null) {
                        throw new ProtocolViolation("HANDOVER before HELLO");
                    }
                    // Closes this session (discarding a half-received checkpoint) and resumes the guest here.
                    slot.failover().onHandover(clock.nanoTime());
                }
                default -> throw new ProtocolViolation("unexpected " + frame.getClass().getSimpleName() + " frame");
            }
        } catch (ProtocolViolation e) {
            LOG.error("{}: protocol violation from {}: {}; closing the connection", domain(), ctx.channel().remoteAddress(),
                    e.getMessage());
            discard("protocol violation");
            ctx.close();
        } catch (IOException e) {
            LOG.error("{}: cannot write the replica: {}; closing the connection", domain(), e.toString());
            discard("I/O error");
            ctx.close();
        }
        // SimpleChannelInboundHandler releases the frame after this returns.
    }

    private void onHello(ChannelHandlerContext ctx, Hello hello) throws IOException, ProtocolViolation {
        if (state != State.AWAIT_HELLO) {
            throw new ProtocolViolation("second HELLO on one connection");
        }
        String refusal = refusalOf(hello);
        if (refusal == null) {
            try {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                slot = server.acquire(hello, ctx.channel(),
                        ssl == null ? List.of() : TlsMaterial.peerNames(ssl.engine().getSession()));
                store = slot.store();
            } catch (ProtocolViolation e) {
                refusal = e.getMessage();
            } catch (IOException e) {
                // The primary hears why it is not protected, instead of a closed connection and silence.
                refusal = "the backup cannot keep a replica of domain '" + hello.domainName() + "' under "
                        + server.baseDir() + ": " + e;
            }
        }
        if (refusal != null) {
            LOG.error("refusing primary {}: {}", ctx.channel().remoteAddress(), refusal);
            ctx.writeAndFlush(new HelloAck(FrameCodec.PROTOCOL_VERSION, 0, refusal)).addListener(f -> ctx.close());
            state = State.CLOSED;
            return;
        }
        metrics.lastCommittedEpoch.set(store.lastCommittedEpoch());
        LOG.info("{}: primary {} connected ({} guest, {} bytes of RAM, {}-byte pages, {} bytes of disk); replica "
                + "at epoch {}", hello.domainName(), ctx.channel().remoteAddress(), hello.guest().driver(),
                hello.guest().ramBytes(), hello.guest().pageSizeBytes(), hello.guest().diskBytes(),
                store.lastCommittedEpoch());
        ctx.writeAndFlush(new HelloAck(FrameCodec.PROTOCOL_VERSION, store.lastCommittedEpoch(), "",
                slot.heartbeatPort()));
        state = State.IDLE;
    }

    /** Why a HELLO cannot be served, or null. */
    private static String refusalOf(Hello hello) {
        if (hello.protocolVersion() != FrameCodec.PROTOCOL_VERSION) {
            return "protocol version " + hello.protocolVersion() + " is not supported (this backup speaks "
                    + FrameCodec.PROTOCOL_VERSION + "): run the same checkpointd release on both hosts";
        }
        if (!DOMAIN_NAME.matcher(hello.domainName()).matches()) {
            return "domain name '" + hello.domainName() + "' is not a plain name ([A-Za-z0-9._-], at most 128)";
        }
        GuestSpec guest = hello.guest();
        if (!DRIVER_NAME.matcher(guest.driver()).matches()) {
            return "driver name '" + guest.driver() + "' is not a plain name ([a-z0-9-], at most 32)";
        }
        int page = guest.pageSizeBytes();
        if (page < 512 || Integer.bitCount(page) != 1) {
            return "page size " + page + " is not a power of two >= 512";
        }
        if (guest.ramBytes() <= 0 || guest.ramBytes() % page != 0) {
            return "RAM size " + guest.ramBytes() + " is not a positive multiple of the page size " + page;
        }
        return null;
    }

    private void onBegin(CheckpointBegin begin) throws ProtocolViolation {
        if (state != State.IDLE) {
            throw new ProtocolViolation(state == State.AWAIT_HELLO ? "CKPT_BEGIN before HELLO"
                    : "CKPT_BEGIN " + begin.epoch() + " while checkpoint " + incoming.epoch() + " is open");
        }
        if (!haveBaseOnThisConnection && !begin.full()) {
            throw new ProtocolViolation("the first checkpoint on a connection must be full; epoch " + begin.epoch()
                    + " is not");
        }
        if (begin.epoch() <= store.lastCommittedEpoch()) {
            throw new ProtocolViolation("epoch " + begin.epoch() + " is not after the last committed epoch "
                    + store.lastCommittedEpoch());
        }
        incoming = new IncomingCheckpoint(begin, store, maxDeviceStateBytes);
        state = State.RECEIVING;
    }

    private IncomingCheckpoint receiving(String frame) throws ProtocolViolation {
        if (state != State.RECEIVING) {
            throw new ProtocolViolation(frame + " outside a checkpoint");
        }
        return incoming;
    }

    private void onEnd(ChannelHandlerContext ctx, CheckpointEnd end) throws ProtocolViolation, IOException {
        IncomingCheckpoint ckpt = receiving("CKPT_END");
        ckpt.verify(end);
        long startNs = System.nanoTime();
        store.commit(ckpt.epoch(), ckpt.pageNumbers(), ckpt.pagesReceived(), ckpt.deviceState());
        metrics.applyTimer.record(System.nanoTime() - startNs, TimeUnit.NANOSECONDS);
        metrics.committed.increment();
        metrics.lastCommittedEpoch.set(ckpt.epoch());
        haveBaseOnThisConnection = true;
        incoming = null;
        state = State.IDLE;
        ctx.writeAndFlush(new Ack(end.epoch()));
    }

    private void discard(String why) {
        if (incoming != null) {
            LOG.warn("{}: checkpoint {} discarded ({}; had {}); replica stays at epoch {}", domain(), incoming.epoch(),
                    why, incoming.progress(), store.lastCommittedEpoch());
            metrics.discarded.increment();
            incoming.discardDisk();
            incoming = null;
        }
        state = State.CLOSED;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        discard("connection lost");
        if (slot != null) {
            LOG.info("{}: primary {} disconnected; replica at epoch {}", domain(), ctx.channel().remoteAddress(),
                    store.lastCommittedEpoch());
            server.release(slot, ctx.channel());
            slot = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent idle && idle.state() == IdleState.WRITER_IDLE && state != State.AWAIT_HELLO) {
            ctx.writeAndFlush(new Heartbeat(++heartbeatSequence, clock.nanoTime(), 0));
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.error("{}: replication connection from {} failed: {}", domain(), ctx.channel().remoteAddress(),
                cause.getMessage());
        discard("connection error");
        ctx.close();
    }

    private String domain() {
        return store == null ? "(no domain yet)" : store.directory().getFileName().toString();
    }
}
