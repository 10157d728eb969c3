package io.checkpointd.netbuffer.bridge;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.util.List;

/**
 * Splits QEMU's stream into Ethernet frames ({@link QemuFraming}): emits one {@link ByteBuf} per frame,
 * without the length. A length of 0 or above {@link QemuFraming#MAX_FRAME_BYTES} is checked before anything
 * is allocated for it, and fails the stream with a {@link CorruptedFrameException}; from then on the
 * decoder discards its input, since the stream cannot be resynchronised; the handler after it closes the
 * connection.
 *
 * <p>Each frame is copied out of the cumulation buffer rather than sliced: frames are held for whole
 * epochs, and a slice would pin the (larger) cumulation buffer and understate the bytes held.
 */
final class QemuFrameDecoder extends ByteToMessageDecoder {
    private enum State { LENGTH, FRAME, BROKEN }

    private State state = State.LENGTH;
    private int frameBytes;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case LENGTH -> {
                if (in.readableBytes() < QemuFraming.LENGTH_FIELD_BYTES) {
                    return;
                }
                long length = in.readUnsignedInt();
                if (length == 0 || length > QemuFraming.MAX_FRAME_BYTES) {
                    state = State.BROKEN;
                    in.skipBytes(in.readableBytes());
                    throw new CorruptedFrameException("frame length " + length + " is outside 1 to "
                            + QemuFraming.MAX_FRAME_BYTES);
                }
                frameBytes = (int) length;
                state = State.FRAME;
            }
            case FRAME -> {
                if (in.readableBytes() < frameBytes) {
                    return;
                }
                out.add(ctx.alloc().buffer(frameBytes).writeBytes(in, frameBytes));
                state = State.LENGTH;
            }
            case BROKEN -> in.skipBytes(in.readableBytes());
        }
    }
}
