package io.checkpointd.replication;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.util.function.LongConsumer;

/** Counts the bytes that cross the socket, at the bottom of the pipeline: what "on the wire" means. */
public final class ByteCounter extends ChannelDuplexHandler {
    private final LongConsumer outbound;
    private final LongConsumer inbound;

    public ByteCounter(LongConsumer outbound, LongConsumer inbound) {
        this.outbound = outbound;
        this.inbound = inbound;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        outbound.accept(sizeOf(msg));
        ctx.write(msg, promise);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inbound.accept(sizeOf(msg));
        ctx.fireChannelRead(msg);
    }

    private static long sizeOf(Object msg) {
        if (msg instanceof ByteBuf buf) {
            return buf.readableBytes();
        }
        if (msg instanceof ByteBufHolder holder) {
            return holder.content().readableBytes();
        }
        return 0;
    }
}
