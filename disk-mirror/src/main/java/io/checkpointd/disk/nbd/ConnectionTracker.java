package io.checkpointd.disk.nbd;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

/**
 * First handler of every connection: keeps the connection meters and the server's group of open channels
 * (closed together on shutdown), and records why a connection ended.
 */
@ChannelHandler.Sharable
final class ConnectionTracker extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionTracker.class);
    private static final AttributeKey<NbdMetrics.Disconnect> REASON = AttributeKey.valueOf("nbd.disconnect.reason");

    private final NbdMetrics metrics;
    private final ChannelGroup channels;

    ConnectionTracker(NbdMetrics metrics, ChannelGroup channels) {
        this.metrics = metrics;
        this.channels = channels;
    }

    /**
     * How logs name a connection: its id, and the peer for TCP. (A unix socket's addresses say nothing useful:
     * the peer is unnamed and the local name is where the socket was bound before it was moved into place.)
     */
    static String name(Channel channel) {
        return channel.remoteAddress() instanceof InetSocketAddress peer
                ? "nbd#" + channel.id().asShortText() + " " + peer
                : "nbd#" + channel.id().asShortText();
    }

    /**
     * Sends what is queued for the client, then closes its connection, counting it under {@code reason}.
     * The first reason given for a connection is the one counted.
     */
    static void close(ChannelHandlerContext ctx, NbdMetrics.Disconnect reason) {
        ctx.channel().attr(REASON).setIfAbsent(reason);
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channels.add(ctx.channel());
        metrics.connected();
        LOG.debug("{}: connected", name(ctx.channel()));
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        NbdMetrics.Disconnect reason = ctx.channel().attr(REASON).get();
        metrics.disconnected(reason == null ? NbdMetrics.Disconnect.CLIENT : reason);
        LOG.debug("{}: disconnected ({})", name(ctx.channel()), reason == null ? "by the client" : reason);
        ctx.fireChannelInactive();
    }
}
