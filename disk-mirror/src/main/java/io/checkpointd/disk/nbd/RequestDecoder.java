package io.checkpointd.disk.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;

import java.util.List;

/**
 * Reads transmission requests into {@link NbdRequest}s.
 *
 * <pre>
 *   0  magic   u32  NBD_REQUEST_MAGIC 0x25609513
 *   4  flags   u16  command flags
 *   6  type    u16  command
 *   8  cookie  u64  echoed in the reply
 *  16  offset  u64
 *  24  length  u32
 *  28  data         length bytes, NBD_CMD_WRITE only
 * </pre>
 *
 * <p>Only WRITE carries data, and only WRITE's length is bounded here, as soon as the header is readable
 * and before anything waits for or holds the data: up to {@code maxPayloadBytes} the data becomes a retained
 * slice of the input (no copy); beyond it the request is emitted at once with
 * {@link NbdRequest#payloadTooLarge()} and its data is then skipped as it arrives, never buffered, so the
 * connection stays in step and the client gets EINVAL (what QEMU's server does too). Nothing is written for
 * such a request: a write is applied whole or not at all. Every other check (range, flags, command) is the
 * handler's, since it does not change where the next request starts.
 *
 * <p>A header without the magic cannot be resynchronised: {@link #decode} throws
 * {@link CorruptedFrameException}, then discards all later input unread (state {@code FAILED}); the handler
 * logs and closes the connection.
 *
 * <p>Not sharable: one per channel.
 */
final class RequestDecoder extends ByteToMessageDecoder {
    static final int HEADER_BYTES = 28;
    static final int MAGIC_OFFSET = 0;
    static final int FLAGS_OFFSET = 4;
    static final int TYPE_OFFSET = 6;
    static final int COOKIE_OFFSET = 8;
    static final int OFFSET_OFFSET = 16;
    static final int LENGTH_OFFSET = 24;

    private enum State {
        HEADER,
        /** A WRITE header was read; waiting for its {@link #length} bytes of data. */
        WRITE_DATA,
        /** Skipping {@link #skipRemaining} bytes of an oversized WRITE. */
        SKIP_DATA,
        FAILED
    }

    private final int maxPayloadBytes;
    private State state = State.HEADER;
    // The WRITE being read, valid in WRITE_DATA.
    private int flags;
    private long cookie;
    private long offset;
    private int length;
    private long skipRemaining;

    RequestDecoder(int maxPayloadBytes) {
        if (maxPayloadBytes <= 0) {
            throw new IllegalArgumentException("maxPayloadBytes must be > 0: " + maxPayloadBytes);
        }
        this.maxPayloadBytes = maxPayloadBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> {
                // Data already here completes in this same call (ByteToMessageDecoder stops calling once the
                // input is empty, and a zero-length WRITE must not wait for more bytes).
                if (readHeader(in, out) && state == State.WRITE_DATA) {
                    readWriteData(in, out);
                }
            }
            case WRITE_DATA -> readWriteData(in, out);
            case SKIP_DATA -> {
                int skip = (int) Math.min(in.readableBytes(), skipRemaining);
                in.skipBytes(skip);
                skipRemaining -= skip;
                if (skipRemaining == 0) {
                    state = State.HEADER;
                }
            }
            case FAILED -> in.skipBytes(in.readableBytes());
        }
    }

    /** @return true if a whole header was read */
    private boolean readHeader(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < HEADER_BYTES) {
            return false;
        }
        int start = in.readerIndex();
        int magic = in.getInt(start + MAGIC_OFFSET);
        if (magic != Nbd.REQUEST_MAGIC) {
            state = State.FAILED;
            in.skipBytes(in.readableBytes());
            throw new CorruptedFrameException(String.format("request without NBD_REQUEST_MAGIC: 0x%08x", magic));
        }
        int requestFlags = in.getUnsignedShort(start + FLAGS_OFFSET);
        int type = in.getUnsignedShort(start + TYPE_OFFSET);
        long requestCookie = in.getLong(start + COOKIE_OFFSET);
        long requestOffset = in.getLong(start + OFFSET_OFFSET);
        long requestLength = in.getUnsignedInt(start + LENGTH_OFFSET);
        in.skipBytes(HEADER_BYTES);
        if (type != Nbd.CMD_WRITE) {
            out.add(new NbdRequest(requestFlags, type, requestCookie, requestOffset, requestLength, null, false));
        } else if (requestLength > maxPayloadBytes) {
            out.add(new NbdRequest(requestFlags, type, requestCookie, requestOffset, requestLength, null, true));
            skipRemaining = requestLength;
            state = State.SKIP_DATA;
        } else {
            flags = requestFlags;
            cookie = requestCookie;
            offset = requestOffset;
            length = (int) requestLength;
            state = State.WRITE_DATA;
        }
        return true;
    }

    private void readWriteData(ByteBuf in, List<Object> out) {
        if (in.readableBytes() >= length) {
            out.add(new NbdRequest(flags, Nbd.CMD_WRITE, cookie, offset, length, in.readRetainedSlice(length), false));
            state = State.HEADER;
        }
    }
}
