package io.checkpointd.netbuffer.bridge;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.CorruptedFrameException;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins a QEMU guest's NIC to a tap device: QEMU connects to the bridge's TCP port
 * ({@code -netdev socket,connect=127.0.0.1:PORT}) and the two exchange {@linkplain QemuFraming
 * length-prefixed} Ethernet frames.
 *
 * <ul>
 *   <li><b>Guest to outside</b> (egress): each frame the guest sends is handed to the {@code fromGuest}
 *   consumer given at start, which owns it from then on. The bridge never writes a guest frame to the tap
 *   by itself: in checkpointd the consumer is {@code HeldEgress::transmit}, which holds the frame until
 *   its checkpoint is acknowledged and then gives it back through {@link #sendToTap}.</li>
 *   <li><b>Outside to guest</b> (ingress): a reading thread takes each frame the host sends out of the tap
 *   and writes it to the guest's connection at once; ingress is never held. With no guest connected, or a
 *   guest that has stopped reading (past 4 MiB queued), the frame is
 *   dropped and counted, as a NIC with a full ring drops.</li>
 * </ul>
 *
 * <p>One guest connection at a time: another is refused (closed, logged) while one is up. When the guest
 * disconnects the bridge waits for the next connection (a guest restored on this host connects anew). A
 * connection that breaks the framing (length 0 or too large) is logged with its peer and closed; the
 * bridge carries on.
 *
 * <p>Threads: the caller's event loop owns the listening socket, the guest connection, the counters and
 * every tap write; {@link #sendToTap} and {@link #announce} may be called from any thread and hop onto
 * it. The tap is read on a thread of the bridge's own, which blocks in {@link TapDevice#read}.
 */
public final class FrameBridge implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FrameBridge.class);

    /** Bytes queued towards a guest that is not reading beyond which new ingress frames are dropped. */
    private static final int GUEST_BACKLOG_HIGH_BYTES = 4 << 20;
    private static final int GUEST_BACKLOG_LOW_BYTES = 1 << 20;
    private static final long CLOSE_WAIT_MS = 2_000;

    private final TapDevice tap;
    private final EventLoop loop;
    private final Consumer<ByteBuf> fromGuest;
    private final BridgeCounters counters = new BridgeCounters();
    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    private final Channel server;
    private final Thread reader;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The guest's connection, or null; owned by the loop. */
    private Channel guest;
    /** A copy of {@code guest != null} for other threads. */
    private volatile boolean guestConnected;
    /** True from the first failed tap write to the next good one, so a failing tap logs once. */
    private boolean tapFailing;

    private FrameBridge(TapDevice tap, EventLoop loop, InetSocketAddress listenAddress, Consumer<ByteBuf> fromGuest)
            throws IOException {
        this.tap = tap;
        this.loop = loop;
        this.fromGuest = fromGuest;
        this.server = listen(listenAddress);
        this.reader = Thread.ofPlatform().daemon().name("tap-reader-" + tap.name())
                .start(new TapReader(tap, alloc, this::handToGuest));
        LOG.info("bridge of {} waiting for the guest on tcp {}", tap, localAddress());
    }

    /**
     * Listens for the guest's connection on {@code listenAddress} and starts reading the tap. Call it from
     * a thread other than {@code loop}'s: it waits for the bind.
     *
     * @param tap           the tap to bridge; the bridge owns it from this call on (closes it, also if
     *                      start fails)
     * @param loop          an NIO event loop (from a {@code MultiThreadIoEventLoopGroup} with
     *                      {@code NioIoHandler}); it owns the bridge's sockets and state
     * @param listenAddress a loopback address (the frames are not authenticated); port 0 picks a free port,
     *                      see {@link #localAddress()}
     * @param fromGuest     takes each frame the guest sends, with ownership; called on {@code loop}
     * @throws IOException if the address cannot be bound
     */
    public static FrameBridge start(TapDevice tap, EventLoop loop, InetSocketAddress listenAddress,
                                    Consumer<ByteBuf> fromGuest) throws IOException {
        Objects.requireNonNull(tap, "tap");
        try {
            Objects.requireNonNull(loop, "loop");
            Objects.requireNonNull(fromGuest, "fromGuest");
            if (listenAddress.isUnresolved() || !listenAddress.getAddress().isLoopbackAddress()) {
                throw new IllegalArgumentException("the bridge of " + tap + " must listen on a loopback address "
                        + "(guest frames are not authenticated), not " + listenAddress);
            }
            return new FrameBridge(tap, loop, listenAddress, fromGuest);
        } catch (IOException | RuntimeException e) {
            tap.close();
            throw e;
        }
    }

    private Channel listen(InetSocketAddress listenAddress) throws IOException {
        ChannelFuture bound = new ServerBootstrap().group(loop).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(GUEST_BACKLOG_LOW_BYTES, GUEST_BACKLOG_HIGH_BYTES))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        onConnect(channel);
                    }
                })
                .bind(listenAddress).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException("the bridge of " + tap + " cannot listen on " + listenAddress + ": "
                    + bound.cause().getMessage(), bound.cause());
        }
        return bound.channel();
    }

    /** Where QEMU connects (the bound port when 0 was asked for). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) server.localAddress();
    }

    /** The name of the bridged tap. */
    public String tapName() {
        return tap.name();
    }

    /** True while a guest is connected. */
    public boolean guestConnected() {
        return guestConnected;
    }

    public BridgeCounters counters() {
        return counters;
    }

    /**
     * Writes {@code frame} (a whole Ethernet frame, e.g. one released by output commit) to the tap and frees
     * it. Takes ownership. Any thread; frames given from one thread are written in order. A frame the tap
     * refuses is dropped and counted.
     */
    public void sendToTap(ByteBuf frame) {
        if (loop.inEventLoop()) {
            writeToTap(frame);
            return;
        }
        try {
            loop.execute(() -> writeToTap(frame));
        } catch (RejectedExecutionException e) {
            frame.release();
        }
    }

    /**
     * Announces that {@code mac} has {@code ip} behind this tap: one gratuitous ARP request
     * ({@link ArpFrames#gratuitousRequest}) written to the tap, so neighbours update their ARP entries and
     * switches learn the port. Call it after a failover, when the guest runs here; a caller wanting to
     * survive a lost frame calls it a few times.
     */
    public void announce(byte[] mac, Inet4Address ip) {
        byte[] frame = ArpFrames.gratuitousRequest(mac, ip);
        LOG.info("{}: announcing {} at {}", tap, ArpFrames.formatMac(mac), ip.getHostAddress());
        sendToTap(Unpooled.wrappedBuffer(frame));
    }

    /**
     * Stops listening, closes the guest's connection and the tap (a non-persistent tap disappears) and
     * waits for the reading thread. Any thread, including the loop's.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (loop.inEventLoop()) {
            closeChannels();
        } else if (!loop.isShuttingDown()) {
            try {
                loop.submit(this::closeChannels).awaitUninterruptibly(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                LOG.debug("{}: the loop shut down first; it closed the sockets", tap);
            }
        }
        tap.close();
        joinReader();
        LOG.info("bridge of {} closed: {}", tap, counters);
    }

    private void closeChannels() {
        server.close();
        if (guest != null) {
            guest.close();
        }
    }

    private void joinReader() {
        if (Thread.currentThread() == reader) {
            return;
        }
        boolean interrupted = false;
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
        while (reader.isAlive()) {
            long leftNs = deadlineNs - System.nanoTime();
            if (leftNs <= 0) {
                LOG.warn("{}: its reading thread did not stop within {} ms", tap, CLOSE_WAIT_MS);
                break;
            }
            try {
                reader.join(TimeUnit.NANOSECONDS.toMillis(leftNs) + 1);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs on the loop, in the accepted channel's registration. */
    private void onConnect(SocketChannel channel) {
        if (closed.get()) {
            channel.close();
            return;
        }
        // A guest connection already closed (by us, or reset) may not have had its inactive event yet.
        if (guest != null && guest.isActive()) {
            LOG.warn("{}: refusing a second guest connection from {}: {} is connected", tap,
                    channel.remoteAddress(), guest.remoteAddress());
            channel.close();
            return;
        }
        guest = channel;
        guestConnected = true;
        channel.pipeline().addLast(new QemuFrameDecoder(), new GuestHandler());
        LOG.info("{}: guest connected from {}", tap, channel.remoteAddress());
    }

    /** From the reading thread: hands a framed ingress frame to the loop. */
    private void handToGuest(ByteBuf framed) {
        try {
            loop.execute(() -> writeToGuest(framed));
        } catch (RejectedExecutionException e) {
            framed.release();
        }
    }

    private void writeToGuest(ByteBuf framed) {
        int frameBytes = framed.readableBytes() - QemuFraming.LENGTH_FIELD_BYTES;
        if (guest == null || !guest.isWritable()) {
            framed.release();
            counters.toGuestDropped();
            return;
        }
        guest.writeAndFlush(framed, guest.voidPromise());
        counters.toGuest(frameBytes);
    }

    private void writeToTap(ByteBuf frame) {
        try {
            int frameBytes = frame.readableBytes();
            if (closed.get()) {
                counters.toTapDropped();
                return;
            }
            tap.write(frame.nioBuffer());
            counters.toTap(frameBytes);
            tapFailing = false;
        } catch (IOException e) {
            counters.toTapDropped();
            if (!tapFailing) {
                tapFailing = true;
                LOG.warn("{}: cannot write frames ({}); dropping them until a write succeeds", tap, e.getMessage());
            }
        } finally {
            frame.release();
        }
    }

    /** The guest connection's last handler: frames to the consumer, and the connection's end. */
    private final class GuestHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            counters.fromGuest(frame.readableBytes());
            try {
                fromGuest.accept(frame);
            } catch (RuntimeException e) {
                // The consumer owns the frame even when it throws; its bug is no reason to cut the guest off.
                LOG.error("{}: the consumer of guest frames failed", tap, e);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (guest == ctx.channel()) {
                guest = null;
                guestConnected = false;
                if (!closed.get()) {
                    LOG.info("{}: guest {} disconnected; waiting for a new connection", tap,
                            ctx.channel().remoteAddress());
                }
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof CorruptedFrameException) {
                LOG.warn("{}: guest connection from {} broke the framing ({}): closing it", tap,
                        ctx.channel().remoteAddress(), cause.getMessage());
            } else {
                LOG.warn("{}: guest connection from {} failed: {}", tap, ctx.channel().remoteAddress(),
                        cause.toString());
            }
            ctx.close();
        }
    }
}
