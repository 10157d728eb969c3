package io.checkpointd.disk.nbd;

import io.checkpointd.disk.WriteListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * The server's side of the fixed newstyle handshake: greets, then answers options until the client picks
 * the export with NBD_OPT_GO or NBD_OPT_EXPORT_NAME, and then turns the connection over to transmission by
 * replacing the decoder and itself in the pipeline.
 *
 * <p>Options: GO and INFO answer NBD_INFO_EXPORT, NBD_INFO_BLOCK_SIZE (always: the payload limit) and
 * NBD_INFO_NAME (when asked), then ACK; an unknown name gets NBD_REP_ERR_UNKNOWN and haggling goes on.
 * EXPORT_NAME with an unknown name cannot be answered with an error, so the connection is closed (as the
 * spec requires). LIST answers the one export; ABORT is acknowledged and the connection closed. Anything
 * else (STARTTLS, STRUCTURED_REPLY, meta contexts, unknown codes) gets NBD_REP_ERR_UNSUP. An option longer
 * than the decoder accepts gets NBD_REP_ERR_TOO_BIG. The empty name means this export, the "default" one.
 *
 * <p>Unknown client flags and a broken option header close the connection, logged, without affecting
 * other connections.
 */
final class HandshakeHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeHandler.class);

    // NBD_OPT_GO / NBD_OPT_INFO data: name length u32, name, request count u16, requests u16 each.
    private static final int NAME_LENGTH_BYTES = 4;
    private static final int INFO_COUNT_BYTES = 2;
    private static final int INFO_REQUEST_BYTES = 2;

    private final Export export;
    private final WriteListener listener;
    private final NbdMetrics metrics;
    private boolean noZeroes;
    /** Set once the connection is being closed: later messages are dropped unanswered. */
    private boolean closing;

    HandshakeHandler(Export export, WriteListener listener, NbdMetrics metrics) {
        this.export = export;
        this.listener = listener;
        this.metrics = metrics;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(NbdReplies.greeting(ctx.alloc()));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (closing) {
                return;
            }
            switch (msg) {
                case HandshakeMessage.ClientFlags flags -> onClientFlags(ctx, flags.flags());
                case HandshakeMessage.Option option -> onOption(ctx, option.code(), option.content());
                case HandshakeMessage.OversizedOption option -> onOversizedOption(ctx, option);
                default -> throw new IllegalStateException("unexpected message " + msg);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onClientFlags(ChannelHandlerContext ctx, int flags) {
        if ((flags & ~Nbd.KNOWN_CLIENT_FLAGS) != 0) {
            LOG.warn("{}: closing: unknown client flags 0x{}", conn(ctx), Integer.toHexString(flags));
            closeFor(ctx, NbdMetrics.Disconnect.PROTOCOL);
            return;
        }
        noZeroes = (flags & Nbd.CLIENT_FLAG_NO_ZEROES) != 0;
    }

    private void onOption(ChannelHandlerContext ctx, int code, ByteBuf data) {
        ByteBufAllocator alloc = ctx.alloc();
        switch (code) {
            case Nbd.OPT_EXPORT_NAME -> exportName(ctx, data.toString(StandardCharsets.UTF_8));
            case Nbd.OPT_GO, Nbd.OPT_INFO -> goOrInfo(ctx, code, data);
            case Nbd.OPT_LIST -> {
                if (data.isReadable()) {
                    reject(ctx, code, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                } else {
                    ctx.write(NbdReplies.listEntry(alloc, export.name()));
                    ctx.writeAndFlush(NbdReplies.optionReply(alloc, code, Nbd.REP_ACK));
                }
            }
            case Nbd.OPT_ABORT -> {
                LOG.debug("{}: client aborted the handshake", conn(ctx));
                ctx.write(NbdReplies.optionReply(alloc, code, Nbd.REP_ACK));
                closeFor(ctx, NbdMetrics.Disconnect.CLIENT);
            }
            default -> reject(ctx, code, Nbd.REP_ERR_UNSUP, "option " + code + " is not supported");
        }
    }

    private void onOversizedOption(ChannelHandlerContext ctx, HandshakeMessage.OversizedOption option) {
        if (option.code() == Nbd.OPT_EXPORT_NAME) {
            LOG.warn("{}: closing: NBD_OPT_EXPORT_NAME with a {}-byte name", conn(ctx), option.length());
            closeFor(ctx, NbdMetrics.Disconnect.PROTOCOL);
            return;
        }
        reject(ctx, option.code(), Nbd.REP_ERR_TOO_BIG, "option data of " + option.length() + " bytes is too large");
    }

    private void exportName(ChannelHandlerContext ctx, String name) {
        if (!matches(name)) {
            // NBD_OPT_EXPORT_NAME has no error reply: the spec says to end the session.
            LOG.warn("{}: closing: NBD_OPT_EXPORT_NAME for unknown export '{}'", conn(ctx), name);
            closeFor(ctx, NbdMetrics.Disconnect.PROTOCOL);
            return;
        }
        ctx.writeAndFlush(NbdReplies.exportNameReply(ctx.alloc(), export.sizeBytes(), export.transmissionFlags(),
                noZeroes));
        enterTransmission(ctx);
    }

    private void goOrInfo(ChannelHandlerContext ctx, int code, ByteBuf data) {
        ByteBufAllocator alloc = ctx.alloc();
        int size = data.readableBytes();
        long nameLength = size < NAME_LENGTH_BYTES ? -1 : data.getUnsignedInt(data.readerIndex());
        if (nameLength < 0 || nameLength > size - NAME_LENGTH_BYTES - INFO_COUNT_BYTES) {
            reject(ctx, code, Nbd.REP_ERR_INVALID, "malformed option data");
            return;
        }
        int countIndex = data.readerIndex() + NAME_LENGTH_BYTES + (int) nameLength;
        int requestCount = data.getUnsignedShort(countIndex);
        if (size != NAME_LENGTH_BYTES + nameLength + INFO_COUNT_BYTES + (long) requestCount * INFO_REQUEST_BYTES) {
            reject(ctx, code, Nbd.REP_ERR_INVALID, "malformed option data");
            return;
        }
        String name = data.toString(data.readerIndex() + NAME_LENGTH_BYTES, (int) nameLength, StandardCharsets.UTF_8);
        if (!matches(name)) {
            reject(ctx, code, Nbd.REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return;
        }
        boolean nameRequested = false;
        for (int i = 0; i < requestCount; i++) {
            int request = data.getUnsignedShort(countIndex + INFO_COUNT_BYTES + i * INFO_REQUEST_BYTES);
            nameRequested |= request == Nbd.INFO_NAME;
        }
        ctx.write(NbdReplies.infoExport(alloc, code, export.sizeBytes(), export.transmissionFlags()));
        if (nameRequested) {
            ctx.write(NbdReplies.infoName(alloc, code, export.name()));
        }
        ctx.write(NbdReplies.infoBlockSize(alloc, code, export.maxPayloadBytes()));
        ctx.writeAndFlush(NbdReplies.optionReply(alloc, code, Nbd.REP_ACK));
        if (code == Nbd.OPT_GO) {
            enterTransmission(ctx);
        }
    }

    private boolean matches(String name) {
        return name.isEmpty() || name.equals(export.name());
    }

    private void reject(ChannelHandlerContext ctx, int code, int error, String message) {
        // Options the spec defines but this server does not do (structured replies, TLS, meta contexts) are
        // ordinary negotiation, asked by every QEMU: not worth more than a debug line.
        boolean routine = error == Nbd.REP_ERR_UNSUP && code <= Nbd.LAST_SPEC_OPTION;
        if (routine) {
            LOG.debug("{}: option {} rejected: {}", conn(ctx), code, message);
            ctx.writeAndFlush(NbdReplies.optionError(ctx.alloc(), code, error, message));
            return;
        }
        LOG.info("{}: option {} rejected: {}", conn(ctx), code, message);
        ctx.writeAndFlush(NbdReplies.optionError(ctx.alloc(), code, error, message));
    }

    /**
     * Hands the connection to {@link TransmissionHandler}. The handler goes first so that bytes the client
     * already sent, which the old decoder forwards to the new one when it is removed, find it in place.
     */
    private void enterTransmission(ChannelHandlerContext ctx) {
        LOG.debug("{}: export '{}' selected, entering transmission", conn(ctx), export.name());
        ChannelPipeline pipeline = ctx.pipeline();
        pipeline.replace(this, "nbd-transmission", new TransmissionHandler(export, listener, metrics));
        pipeline.replace(HandshakeDecoder.class, "nbd-request-decoder", new RequestDecoder(export.maxPayloadBytes()));
    }

    /** This handler leaves the pipeline when transmission starts: a close seen here ended the handshake. */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!closing) {
            LOG.info("{}: client left during the handshake, before choosing an export", conn(ctx));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException) {
            LOG.warn("{}: closing during the handshake: {}", conn(ctx), cause.getMessage());
            closeFor(ctx, NbdMetrics.Disconnect.PROTOCOL);
        } else if (cause instanceof java.io.IOException) {
            LOG.debug("{}: connection error during the handshake: {}", conn(ctx), cause.toString());
            closeFor(ctx, NbdMetrics.Disconnect.CLIENT);
        } else {
            LOG.warn("{}: closing during the handshake", conn(ctx), cause);
            closeFor(ctx, NbdMetrics.Disconnect.ERROR);
        }
    }

    private void closeFor(ChannelHandlerContext ctx, NbdMetrics.Disconnect reason) {
        closing = true;
        ConnectionTracker.close(ctx, reason);
    }

    private static String conn(ChannelHandlerContext ctx) {
        return ConnectionTracker.name(ctx.channel());
    }
}
