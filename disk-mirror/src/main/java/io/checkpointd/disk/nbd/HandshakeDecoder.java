package io.checkpointd.disk.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;

import java.util.List;

/**
 * Reads the client's side of the fixed newstyle handshake: its flags, then options.
 *
 * <pre>
 * client flags (once, after the server's greeting):
 *   0  flags   u32
 *
 * option:
 *   0  magic   u64  IHAVEOPT
 *   8  option  u32
 *  12  length  u32  bytes of data that follow
 *  16  data
 * </pre>
 *
 * <p>The length is checked as soon as the 16-byte header is readable, before anything waits for or
 * allocates the data. Data up to {@code maxOptionBytes} becomes an {@link HandshakeMessage.Option}
 * (a retained slice, no copy); longer data becomes an {@link HandshakeMessage.OversizedOption} and is then
 * skipped as it arrives, so the client can still be answered and go on.
 *
 * <p>A header without IHAVEOPT cannot be resynchronised: {@link #decode} throws
 * {@link CorruptedFrameException}, and from then on discards all input unread (state {@code FAILED}); the
 * handler closes the connection. The handler replaces this decoder once the client picks an export.
 *
 * <p>Not sharable: one per channel.
 */
final class HandshakeDecoder extends ByteToMessageDecoder {
    static final int CLIENT_FLAGS_BYTES = 4;
    static final int OPTION_HEADER_BYTES = 16;
    static final int MAGIC_OFFSET = 0;
    static final int OPTION_OFFSET = 8;
    static final int LENGTH_OFFSET = 12;

    /**
     * Room for the largest well-formed option this server acts on: GO/INFO with a 4096-byte name (4 + 4096
     * + 2) and over 2000 information requests.
     */
    static final int DEFAULT_MAX_OPTION_BYTES = 8192;

    private enum State {
        CLIENT_FLAGS,
        OPTION_HEADER,
        /** Waiting for {@link #optionLength} bytes of data of option {@link #optionCode}. */
        OPTION_DATA,
        /** Skipping {@link #skipRemaining} bytes of an oversized option. */
        SKIP_OPTION_DATA,
        FAILED
    }

    private final int maxOptionBytes;
    private State state = State.CLIENT_FLAGS;
    private int optionCode;
    private int optionLength;
    private long skipRemaining;

    HandshakeDecoder(int maxOptionBytes) {
        if (maxOptionBytes < 0) {
            throw new IllegalArgumentException("maxOptionBytes must be >= 0: " + maxOptionBytes);
        }
        this.maxOptionBytes = maxOptionBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case CLIENT_FLAGS -> {
                if (in.readableBytes() >= CLIENT_FLAGS_BYTES) {
                    out.add(new HandshakeMessage.ClientFlags(in.readInt()));
                    state = State.OPTION_HEADER;
                }
            }
            case OPTION_HEADER -> {
                // Data that is already here (or none at all) completes in this same call: ByteToMessageDecoder
                // does not call again once the input is empty, and an empty option must not wait for more.
                if (readHeader(in, out) && state == State.OPTION_DATA) {
                    readData(in, out);
                }
            }
            case OPTION_DATA -> readData(in, out);
            case SKIP_OPTION_DATA -> {
                int skip = (int) Math.min(in.readableBytes(), skipRemaining);
                in.skipBytes(skip);
                skipRemaining -= skip;
                if (skipRemaining == 0) {
                    state = State.OPTION_HEADER;
                }
            }
            case FAILED -> in.skipBytes(in.readableBytes());
        }
    }

    private void readData(ByteBuf in, List<Object> out) {
        if (in.readableBytes() >= optionLength) {
            out.add(new HandshakeMessage.Option(optionCode, in.readRetainedSlice(optionLength)));
            state = State.OPTION_HEADER;
        }
    }

    /** @return true if a whole header was read */
    private boolean readHeader(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < OPTION_HEADER_BYTES) {
            return false;
        }
        int start = in.readerIndex();
        long magic = in.getLong(start + MAGIC_OFFSET);
        if (magic != Nbd.IHAVEOPT) {
            state = State.FAILED;
            in.skipBytes(in.readableBytes());
            throw new CorruptedFrameException(String.format("option without IHAVEOPT magic: 0x%016x", magic));
        }
        int code = in.getInt(start + OPTION_OFFSET);
        long length = in.getUnsignedInt(start + LENGTH_OFFSET);
        in.skipBytes(OPTION_HEADER_BYTES);
        if (length > maxOptionBytes) {
            out.add(new HandshakeMessage.OversizedOption(code, length));
            skipRemaining = length;
            state = State.SKIP_OPTION_DATA;
        } else {
            optionCode = code;
            optionLength = (int) length;
            state = State.OPTION_DATA;
        }
        return true;
    }
}
