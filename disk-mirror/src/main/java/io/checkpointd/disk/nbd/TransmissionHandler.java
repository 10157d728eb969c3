package io.checkpointd.disk.nbd;

import io.checkpointd.disk.WriteListener;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Serves transmission requests on the export, one at a time in arrival order, with simple replies.
 *
 * <p>Each request is checked before it touches the image; a failed check gets an error reply and changes
 * nothing:
 * <ul>
 *   <li>a command flag the command does not take: EINVAL;</li>
 *   <li>READ or WRITE longer than the payload limit: EINVAL (the WRITE's data was skipped by the decoder);</li>
 *   <li>WRITE, TRIM or WRITE_ZEROES on a read-only export: EPERM;</li>
 *   <li>a range past the end: ENOSPC for WRITE and WRITE_ZEROES (the spec's recommendation for writes),
 *       EINVAL for READ and TRIM (as QEMU's server answers);</li>
 *   <li>WRITE_ZEROES with FAST_ZERO where zeroing would mean writing every byte: ENOTSUP;</li>
 *   <li>an unknown command: EINVAL;</li>
 *   <li>an I/O error on the image: EIO.</li>
 * </ul>
 * Every write, trim and zeroing that succeeds is given to the {@link WriteListener} after it reached the
 * image and before its reply is queued. FLUSH forces the image to disk; FUA forces it after that request;
 * either skips the fsync when nothing reached the image since the last one ({@link Export#force}).
 * Replies are flushed to the socket once per read batch. When the client stops reading replies the
 * connection stops reading requests until the outbound buffer drains.
 *
 * <p>The I/O is done on the event loop: these are page-cache reads and writes of a local image (the
 * guest's own disk), and doing them in order is what keeps the listener's order equal to the image's.
 */
final class TransmissionHandler extends SimpleChannelInboundHandler<NbdRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(TransmissionHandler.class);

    private static final int READ_FLAGS = Nbd.CMD_FLAG_FUA; // FUA is valid (and meaningless) on any command
    private static final int WRITE_FLAGS = Nbd.CMD_FLAG_FUA;
    private static final int TRIM_FLAGS = Nbd.CMD_FLAG_FUA;
    private static final int FLUSH_FLAGS = Nbd.CMD_FLAG_FUA;
    private static final int ZEROES_FLAGS = Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_FAST_ZERO;

    private final Export export;
    private final WriteListener listener;
    private final NbdMetrics metrics;
    /** Set after NBD_CMD_DISC or a fatal error: later requests are dropped unanswered. */
    private boolean closing;

    TransmissionHandler(Export export, WriteListener listener, NbdMetrics metrics) {
        this.export = export;
        this.listener = listener;
        this.metrics = metrics;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, NbdRequest request) {
        if (closing) {
            return;
        }
        metrics.request(request.type());
        try {
            switch (request.type()) {
                case Nbd.CMD_READ -> read(ctx, request);
                case Nbd.CMD_WRITE -> write(ctx, request);
                case Nbd.CMD_FLUSH -> flush(ctx, request);
                case Nbd.CMD_TRIM -> trim(ctx, request);
                case Nbd.CMD_WRITE_ZEROES -> writeZeroes(ctx, request);
                case Nbd.CMD_DISC -> {
                    LOG.debug("{}: client disconnects", conn(ctx));
                    closeFor(ctx, NbdMetrics.Disconnect.CLIENT);
                }
                default -> fail(ctx, request, Nbd.EINVAL, "unknown command " + request.type());
            }
        } catch (IOException e) {
            LOG.warn("{}: I/O error on {} for {}", conn(ctx), export.image(), request, e);
            fail(ctx, request, Nbd.EIO, "I/O error: " + e.getMessage());
        } catch (RuntimeException e) {
            // Most likely the listener: the image changed but the change may not be mirrored, so the client
            // must not believe the write succeeded, and this connection's state can no longer be trusted.
            LOG.error("{}: failed to serve {}; closing", conn(ctx), request, e);
            fail(ctx, request, Nbd.EIO, "internal error");
            closeFor(ctx, NbdMetrics.Disconnect.ERROR);
        }
    }

    private void read(ChannelHandlerContext ctx, NbdRequest request) throws IOException {
        if (!checkFlags(ctx, request, READ_FLAGS)) {
            return;
        }
        if (request.length() > export.maxPayloadBytes()) {
            fail(ctx, request, Nbd.EINVAL, "READ of " + request.length() + " bytes exceeds the payload limit");
            return;
        }
        if (!export.contains(request.offset(), request.length())) {
            fail(ctx, request, Nbd.EINVAL, "READ past the end of the export");
            return;
        }
        int length = (int) request.length();
        ByteBuf reply = ctx.alloc().ioBuffer(NbdReplies.SIMPLE_REPLY_HEADER_BYTES + length);
        try {
            NbdReplies.simpleReplyHeader(reply, 0, request.cookie());
            export.read(request.offset(), length, reply);
        } catch (IOException | RuntimeException e) {
            reply.release();
            throw e;
        }
        // The data is complete before the reply is queued: a simple reply cannot report a late error.
        ctx.write(reply);
        metrics.read(length);
    }

    private void write(ChannelHandlerContext ctx, NbdRequest request) throws IOException {
        if (!checkFlags(ctx, request, WRITE_FLAGS)) {
            return;
        }
        if (request.payloadTooLarge()) {
            fail(ctx, request, Nbd.EINVAL, "WRITE of " + request.length() + " bytes exceeds the payload limit");
            return;
        }
        if (!checkWritable(ctx, request, Nbd.ENOSPC)) {
            return;
        }
        ByteBuf data = request.data();
        export.write(request.offset(), data);
        metrics.written(data.readableBytes());
        listener.onWrite(request.offset(), data);
        forceIfFua(request, false);
        succeed(ctx, request);
    }

    private void trim(ChannelHandlerContext ctx, NbdRequest request) throws IOException {
        if (!checkFlags(ctx, request, TRIM_FLAGS) || !checkWritable(ctx, request, Nbd.EINVAL)) {
            return;
        }
        export.zero(request.offset(), request.length(), true);
        metrics.zeroed(request.length());
        listener.onTrim(request.offset(), request.length());
        forceIfFua(request, true);
        succeed(ctx, request);
    }

    private void writeZeroes(ChannelHandlerContext ctx, NbdRequest request) throws IOException {
        if (!checkFlags(ctx, request, ZEROES_FLAGS) || !checkWritable(ctx, request, Nbd.ENOSPC)) {
            return;
        }
        if ((request.flags() & Nbd.CMD_FLAG_FAST_ZERO) != 0 && !export.canZeroFast()) {
            fail(ctx, request, Nbd.ENOTSUP, "zeroing is not fast on this image");
            return;
        }
        boolean deallocate = (request.flags() & Nbd.CMD_FLAG_NO_HOLE) == 0;
        export.zero(request.offset(), request.length(), deallocate);
        metrics.zeroed(request.length());
        listener.onZeroes(request.offset(), request.length());
        forceIfFua(request, true);
        succeed(ctx, request);
    }

    private void flush(ChannelHandlerContext ctx, NbdRequest request) throws IOException {
        if (!checkFlags(ctx, request, FLUSH_FLAGS)) {
            return;
        }
        // Metadata too: earlier trims changed block allocation.
        if (export.force(true)) {
            metrics.synced(false);
        } else {
            metrics.syncSkipped();
        }
        succeed(ctx, request);
    }

    private void forceIfFua(NbdRequest request, boolean metadata) throws IOException {
        if ((request.flags() & Nbd.CMD_FLAG_FUA) != 0) {
            if (export.force(metadata)) {
                metrics.synced(true);
            } else {
                metrics.syncSkipped();
            }
        }
    }

    private boolean checkFlags(ChannelHandlerContext ctx, NbdRequest request, int allowed) {
        if ((request.flags() & ~allowed) == 0) {
            return true;
        }
        fail(ctx, request, Nbd.EINVAL, "command flags 0x" + Integer.toHexString(request.flags())
                + " not valid for this command");
        return false;
    }

    /** Read-only export: EPERM; range past the end: {@code rangeError}. */
    private boolean checkWritable(ChannelHandlerContext ctx, NbdRequest request, int rangeError) {
        if (export.readOnly()) {
            fail(ctx, request, Nbd.EPERM, "the export is read-only");
            return false;
        }
        if (!export.contains(request.offset(), request.length())) {
            fail(ctx, request, rangeError, "range past the end of the export");
            return false;
        }
        return true;
    }

    private void succeed(ChannelHandlerContext ctx, NbdRequest request) {
        ctx.write(NbdReplies.simpleReply(ctx.alloc(), 0, request.cookie()));
    }

    private void fail(ChannelHandlerContext ctx, NbdRequest request, int error, String reason) {
        LOG.info("{}: {} answered with error {}: {}", conn(ctx), request, error, reason);
        metrics.error(error);
        ctx.write(NbdReplies.simpleReply(ctx.alloc(), error, request.cookie()));
    }

    private void closeFor(ChannelHandlerContext ctx, NbdMetrics.Disconnect reason) {
        closing = true;
        ConnectionTracker.close(ctx, reason);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        ctx.fireChannelReadComplete();
    }

    /** Back-pressure: a client that does not read its replies stops being read. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException) {
            LOG.warn("{}: closing: {}", conn(ctx), cause.getMessage());
            closeFor(ctx, NbdMetrics.Disconnect.PROTOCOL);
        } else if (cause instanceof IOException) {
            // A socket error: the client went away without NBD_CMD_DISC (e.g. a reset).
            LOG.debug("{}: connection error: {}", conn(ctx), cause.toString());
            closeFor(ctx, NbdMetrics.Disconnect.CLIENT);
        } else {
            LOG.warn("{}: closing", conn(ctx), cause);
            closeFor(ctx, NbdMetrics.Disconnect.ERROR);
        }
    }

    private static String conn(ChannelHandlerContext ctx) {
        return ConnectionTracker.name(ctx.channel());
    }
}
