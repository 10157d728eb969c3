package io.checkpointd.failure;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.socket.nio.NioDatagramChannel;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The light liveness channel: a UDP socket beside the replication TCP connection, so that a long checkpoint
 * transfer queued on TCP is never mistaken for a dead peer. Every {@code intervalNs} it sends one heartbeat
 * to the peer (layout in {@link HeartbeatDatagram}), and it gives each valid heartbeat received to a
 * {@link Listener}. Datagrams that are malformed, short, oversized or carry another session token are
 * counted in {@link #rejectedDatagrams()} and otherwise ignored.
 *
 * <p>The socket and the protocol state belong to one event loop of the group; the setters may be called from
 * any thread and take effect on that loop shortly after they return.
 */
public final class HeartbeatChannel implements AutoCloseable {
    /** Receives the heartbeats that passed the checks. */
    @FunctionalInterface
    public interface Listener {
        /**
         * Called on the channel's event loop; must not block.
         *
         * @param nowNs    the injected clock when the datagram was read
         * @param sequence the peer's sequence number (1 for its first heartbeat; gaps are lost datagrams)
         * @param rttNs    round-trip time to the peer measured by this heartbeat's echo, without the time the
         *                 peer held the echo; -1 when it carries no new echo of one of our heartbeats
         */
        void onHeartbeat(long nowNs, long sequence, long rttNs);
    }

    private final Channel channel;
    private final HeartbeatHandler handler;

    private HeartbeatChannel(Channel channel, HeartbeatHandler handler) {
        this.channel = channel;
        this.handler = handler;
    }

    /**
     * Binds a UDP socket and starts the heartbeat timer; nothing is sent until {@link #setPeer}. Blocks until
     * bound, so it must not be called from an event loop.
     *
     * @param group        a group running {@code NioIoHandler}; one of its loops will own the socket
     * @param bindPort     0 for an ephemeral port (see {@link #localPort()})
     * @param intervalNs   time between heartbeats sent
     * @param sessionToken the token both sides agreed on out of band
     * @param clockNs      the monotonic clock stamped on heartbeats and passed to the listener
     * @throws IllegalStateException when the socket cannot be bound
     */
    public static HeartbeatChannel open(EventLoopGroup group, String bindHost, int bindPort, long intervalNs,
                                        long sessionToken, LongSupplier clockNs, Listener listener) {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(bindHost, "bindHost");
        if (bindPort < 0 || bindPort > 0xFFFF) {
            throw new IllegalArgumentException("bindPort must be 0..65535, was " + bindPort);
        }
        if (intervalNs <= 0) {
            throw new IllegalArgumentException("intervalNs must be positive, was " + intervalNs);
        }
        HeartbeatHandler handler = new HeartbeatHandler(intervalNs, sessionToken, clockNs, listener);
        ChannelFuture bound = new Bootstrap()
                .group(group)
                .channel(NioDatagramChannel.class)
                // One byte more than a heartbeat: a longer datagram arrives truncated to LENGTH + 1 and is
                // rejected as oversized without ever allocating its full size.
                .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(HeartbeatDatagram.LENGTH + 1))
                .handler(handler)
                .bind(bindHost, bindPort)
                .awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IllegalStateException("heartbeat: cannot bind UDP " + bindHost + ":" + bindPort + ": "
                    + bound.cause().getMessage(), bound.cause());
        }
        return new HeartbeatChannel(bound.channel(), handler);
    }

    /** The bound UDP port (the ephemeral one when opened with port 0). */
    public int localPort() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Where heartbeats go; null stops sending (receiving goes on). A new peer starts without echoes. */
    public void setPeer(InetSocketAddress peer) {
        channel.eventLoop().execute(() -> handler.peer(peer));
    }

    /** Replaces the session token for both sending and accepting, e.g. when a new replication session starts. */
    public void setSessionToken(long sessionToken) {
        channel.eventLoop().execute(() -> handler.sessionToken(sessionToken));
    }

    /**
     * Authenticates this session's datagrams from now on: each sent one is tagged, and a received one is
     * accepted only with a valid tag and a sequence above the last accepted. Null goes back to the token alone.
     */
    public void setKeys(HeartbeatKeys keys) {
        // Applied before returning (unless called on the channel's own loop, where it is applied at once):
        // a datagram that arrives after this call is judged under these keys.
        if (channel.eventLoop().inEventLoop()) {
            handler.keys(keys);
        } else {
            channel.eventLoop().submit(() -> handler.keys(keys)).syncUninterruptibly();
        }
    }

    /** Datagrams received and ignored: wrong length, magic, version, session token, tag or sequence. */
    public long rejectedDatagrams() {
        return handler.rejectedDatagrams();
    }

    /** Heartbeats the socket failed to send (e.g. no route to the peer). */
    public long sendFailures() {
        return handler.sendFailures();
    }

    /** Stops the timer and closes the socket; waits for the close unless called on the channel's own loop. */
    @Override
    public void close() {
        ChannelFuture closed = channel.close();
        if (!channel.eventLoop().inEventLoop()) {
            closed.awaitUninterruptibly();
        }
    }
}
