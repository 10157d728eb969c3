package io.checkpointd.failure;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The heartbeat protocol on one datagram channel: sends a {@link HeartbeatDatagram} to the peer every
 * interval while the channel is active, checks what arrives, and turns echoes into round-trip times.
 *
 * <p>All fields except the two counters belong to the channel's event loop; other threads reach the setters
 * through {@link HeartbeatChannel}, which hands them to the loop.
 */
final class HeartbeatHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    private final long intervalNs;
    private final LongSupplier clockNs;
    private final HeartbeatChannel.Listener listener;

    // Single writer (the loop), read from any thread: volatile is enough, increments are never concurrent.
    private volatile long rejectedDatagrams;
    private volatile long sendFailures;

    private final ChannelFutureListener countSendFailure = future -> {
        if (!future.isSuccess()) {
            sendFailures++;
        }
    };

    private long sessionToken;
    private HeartbeatKeys keys; // null: datagrams carry no tag and only the token is checked
    private long lastAcceptedSequence; // with keys: a datagram must come after it (no replays)
    private InetSocketAddress peer;
    private long nextSequence = 1;
    private ScheduledFuture<?> sender;

    // What to echo: the peer's latest sentNanos and when we received it (0, 0: nothing yet).
    private long peerSentNanos;
    private long peerSentReceivedAtNs;

    // Our sends since the peer or token last changed: an echo outside [firstSentNs, lastSentNs] is not ours
    // (a previous process, a previous peer) and gives no round trip.
    private boolean sentAny;
    private long firstSentNs;
    private long lastSentNs;
    private long lastMeasuredEchoNanos;

    HeartbeatHandler(long intervalNs, long sessionToken, LongSupplier clockNs, HeartbeatChannel.Listener listener) {
        this.intervalNs = intervalNs;
        this.sessionToken = sessionToken;
        this.clockNs = Objects.requireNonNull(clockNs, "clockNs");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // Fixed delay, not fixed rate: after a stalled loop, one heartbeat says as much as a catch-up burst.
        sender = ctx.executor().scheduleWithFixedDelay(() -> send(ctx), 0, intervalNs, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stopSending();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stopSending();
    }

    private void stopSending() {
        if (sender != null) {
            sender.cancel(false);
            sender = null;
        }
    }

    /** On the loop. Null stops sending. A different peer gets no echoes meant for the previous one. */
    void peer(InetSocketAddress newPeer) {
        if (!Objects.equals(peer, newPeer)) {
            peer = newPeer;
            forgetEchoes();
        }
    }

    /** On the loop. Datagrams are accepted only with this token from now on. */
    void sessionToken(long newToken) {
        if (newToken != sessionToken) {
            sessionToken = newToken;
            forgetEchoes();
        }
    }

    /** On the loop. From now on datagrams are tagged with, and accepted only under, these keys. */
    void keys(HeartbeatKeys newKeys) {
        keys = newKeys;
        lastAcceptedSequence = 0;
        forgetEchoes();
    }

    private void forgetEchoes() {
        peerSentNanos = 0;
        peerSentReceivedAtNs = 0;
        sentAny = false;
        lastMeasuredEchoNanos = 0;
    }

    long rejectedDatagrams() {
        return rejectedDatagrams;
    }

    long sendFailures() {
        return sendFailures;
    }

    private void send(ChannelHandlerContext ctx) {
        if (peer == null) {
            return;
        }
        long nowNs = clockNs.getAsLong();
        if (!sentAny) {
            sentAny = true;
            firstSentNs = nowNs;
        }
        lastSentNs = nowNs;
        long echoDelayNs = peerSentNanos == 0 ? 0 : Math.max(0, nowNs - peerSentReceivedAtNs);
        ByteBuf out = ctx.alloc().buffer(HeartbeatDatagram.LENGTH);
        new HeartbeatDatagram(sessionToken, nextSequence++, nowNs, peerSentNanos, echoDelayNs).encodeInto(out, keys);
        // A lost heartbeat is what the detector is for: count the failure, never throw from the timer.
        ctx.writeAndFlush(new DatagramPacket(out, peer)).addListener(countSendFailure);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        long nowNs = clockNs.getAsLong();
        HeartbeatDatagram heartbeat = HeartbeatDatagram.decode(packet.content());
        if (heartbeat == null || heartbeat.sessionToken() != sessionToken) {
            rejectedDatagrams++;
            return;
        }
        if (keys != null) {
            // A forged datagram fails the tag; a replayed one (or one reordered behind a newer) the sequence.
            if (!HeartbeatDatagram.verify(packet.content(), keys) || heartbeat.sequence() <= lastAcceptedSequence) {
                rejectedDatagrams++;
                return;
            }
            lastAcceptedSequence = heartbeat.sequence();
        }
        long rttNs = roundTripNs(heartbeat, nowNs);
        peerSentNanos = heartbeat.sentNanos();
        peerSentReceivedAtNs = nowNs;
        listener.onHeartbeat(nowNs, heartbeat.sequence(), rttNs);
    }

    /** Round trip from the echo, minus the time the peer held it; -1 without a new echo of ours. */
    private long roundTripNs(HeartbeatDatagram heartbeat, long nowNs) {
        long echoNanos = heartbeat.echoNanos();
        if (echoNanos == 0 || !sentAny || echoNanos == lastMeasuredEchoNanos || heartbeat.echoDelayNanos() < 0
                || echoNanos - firstSentNs < 0 || lastSentNs - echoNanos < 0) {
            return -1;
        }
        lastMeasuredEchoNanos = echoNanos;
        // Clamped: the two clocks tick at slightly different rates, so a tiny round trip can come out negative.
        return Math.max(0, (nowNs - echoNanos) - heartbeat.echoDelayNanos());
    }
}
