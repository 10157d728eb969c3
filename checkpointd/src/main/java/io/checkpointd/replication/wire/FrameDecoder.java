package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;
import java.util.zip.CRC32C;

import static io.checkpointd.replication.wire.FrameCodec.*;

/**
 * Turns bytes laid out as in {@link FrameCodec} into {@link Frame}s.
 *
 * <p>Nothing read from the wire is trusted before it is checked: the length field is bounded as soon as
 * its 4 bytes are readable, before the decoder waits for or allocates the rest; type, reserved bytes,
 * epoch and the payload size the type allows are checked once the 20-byte header is readable; the CRC
 * once the whole payload is; then every count, length and enum in the payload against what remains (see
 * {@link PayloadReader}).
 *
 * <p>The data of {@link Pages} and {@link DeviceState} frames is a retained slice of the received bytes,
 * not a copy: whoever receives such a frame releases it.
 *
 * <p>On any violation {@link #decode} throws {@link CorruptFrameException}, forgets the partial frame and
 * discards every buffered byte. The decoder then stays {@code CORRUPT} and discards all later input
 * unread, because after a framing error it cannot know where the next frame starts: bytes from the middle
 * of a frame (page data, which the guest controls) must never be parsed as frames. The handler that
 * receives the exception closes the connection; a new connection gets a new decoder.
 *
 * <p>Not sharable: one instance per channel.
 */
public final class FrameDecoder extends ByteToMessageDecoder {

    private enum State {
        /** Waiting for the 20-byte header of the next frame. */
        READ_HEADER,
        /** Header read and checked; waiting for {@link #payloadBytes} bytes of payload. */
        READ_PAYLOAD,
        /** A framing error happened; every later byte is discarded. */
        CORRUPT
    }

    private final int maxFrameBytes;
    private final int maxPagesPerFrame;
    private final CRC32C crc = new CRC32C();

    private State state = State.READ_HEADER;
    // The frame being read, valid in READ_PAYLOAD.
    private int type;
    private long epoch;
    private int expectedCrc;
    private int payloadBytes;

    /**
     * @param maxFrameBytes    the largest frame accepted, counting all its bytes (length field included);
     *                         at least {@link FrameCodec#HEADER_BYTES}
     * @param maxPagesPerFrame the largest {@code pageCount} a PAGES frame may declare; at least 1
     */
    public FrameDecoder(int maxFrameBytes, int maxPagesPerFrame) {
        if (maxFrameBytes < HEADER_BYTES) {
            throw new IllegalArgumentException(
                    "maxFrameBytes " + maxFrameBytes + " is smaller than a frame header (" + HEADER_BYTES + ")");
        }
        if (maxPagesPerFrame < 1) {
            throw new IllegalArgumentException("maxPagesPerFrame " + maxPagesPerFrame + " must be at least 1");
        }
        this.maxFrameBytes = maxFrameBytes;
        this.maxPagesPerFrame = maxPagesPerFrame;
    }

    /** Decodes at most one frame per call; {@link ByteToMessageDecoder} calls again while bytes are consumed. */
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            switch (state) {
                case READ_HEADER -> {
                    if (readHeader(in)) {
                        state = State.READ_PAYLOAD;
                        // An empty or fully buffered payload completes in this same call.
                        readPayload(in, out);
                    }
                }
                case READ_PAYLOAD -> readPayload(in, out);
                case CORRUPT -> in.skipBytes(in.readableBytes());
            }
        } catch (CorruptFrameException e) {
            state = State.CORRUPT;
            type = 0;
            epoch = 0;
            expectedCrc = 0;
            payloadBytes = 0;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /** Reads and checks the header; false while more bytes are needed. */
    private boolean readHeader(ByteBuf in) {
        if (in.readableBytes() < LENGTH_BYTES) {
            return false;
        }
        int start = in.readerIndex();
        long length = in.getUnsignedInt(start + LENGTH_OFFSET);
        if (length > maxFrameBytes - LENGTH_BYTES) {
            throw new CorruptFrameException("frame length " + length + " exceeds the limit of "
                    + (maxFrameBytes - LENGTH_BYTES) + " (maxFrameBytes " + maxFrameBytes
                    + " less the length field)");
        }
        if (length < MIN_LENGTH) {
            throw new CorruptFrameException("frame length " + length + " is below the minimum of " + MIN_LENGTH);
        }
        if (in.readableBytes() < HEADER_BYTES) {
            return false;
        }
        type = in.getUnsignedByte(start + TYPE_OFFSET);
        epoch = in.getLong(start + EPOCH_OFFSET);
        expectedCrc = in.getInt(start + CRC_OFFSET);
        payloadBytes = (int) length - MIN_LENGTH;
        if (typeName(type) == null) {
            throw new CorruptFrameException("frame type " + type + " (epoch " + epoch + ") is unknown");
        }
        int reserved = in.getUnsignedMedium(start + RESERVED_OFFSET);
        if (reserved != 0) {
            throw corrupt("reserved bytes 0x" + String.format("%06x", reserved) + " are not zero");
        }
        if (epoch < 0) {
            throw corrupt("epoch is negative");
        }
        if (epoch != 0 && hasNoEpoch(type)) {
            throw corrupt("epoch must be 0");
        }
        checkPayloadBytes();
        crc.reset();
        updateCrc(crc, in, start + TYPE_OFFSET, CRC_COVERED_HEADER_BYTES);
        in.skipBytes(HEADER_BYTES);
        return true;
    }

    /** Rejects a payload size the type cannot have, before waiting for that many bytes. */
    private void checkPayloadBytes() {
        int min;
        int max;
        switch (type) {
            case TYPE_HELLO -> { // the rest is checked once the version is known (PayloadReader)
                min = HELLO_VERSION_BYTES;
                max = HELLO_MIN_PAYLOAD_BYTES + 2 * MAX_STRING_BYTES + MAX_DESCRIPTION_BYTES;
            }
            case TYPE_HELLO_ACK -> { min = HELLO_ACK_MIN_PAYLOAD_BYTES; max = min + MAX_STRING_BYTES; }
            case TYPE_CKPT_BEGIN -> { min = CKPT_BEGIN_PAYLOAD_BYTES; max = min; }
            case TYPE_PAGES -> { min = PAGES_MIN_PAYLOAD_BYTES; max = Integer.MAX_VALUE; }
            case TYPE_DEVICE_STATE -> { min = 0; max = Integer.MAX_VALUE; }
            case TYPE_CKPT_END -> { min = CKPT_END_PAYLOAD_BYTES; max = min; }
            case TYPE_ACK -> { min = ACK_PAYLOAD_BYTES; max = min; }
            case TYPE_HEARTBEAT -> { min = HEARTBEAT_PAYLOAD_BYTES; max = min; }
            case TYPE_GOODBYE -> { min = GOODBYE_PAYLOAD_BYTES; max = min; }
            case TYPE_HANDOVER -> { min = HANDOVER_PAYLOAD_BYTES; max = min; }
            case TYPE_STANDBY -> { min = STANDBY_PAYLOAD_BYTES; max = min; }
            case TYPE_DISK_WRITE -> { min = DISK_WRITE_FIXED_BYTES; max = Integer.MAX_VALUE; }
            default -> throw new IllegalStateException("type " + type + " passed the type check");
        }
        if (min == max && payloadBytes != min) {
            throw corrupt("payload length " + payloadBytes + " differs from the fixed size " + min);
        }
        if (payloadBytes < min) {
            throw corrupt("payload length " + payloadBytes + " is below the minimum of " + min);
        }
        if (payloadBytes > max) {
            throw corrupt("payload length " + payloadBytes + " exceeds the maximum of " + max);
        }
    }

    /** Emits the frame once its whole payload is buffered and its CRC matches. */
    private void readPayload(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < payloadBytes) {
            return;
        }
        int start = in.readerIndex();
        updateCrc(crc, in, start, payloadBytes);
        int actualCrc = (int) crc.getValue();
        if (actualCrc != expectedCrc) {
            throw corrupt("crc32c 0x" + String.format("%08x", expectedCrc)
                    + " does not match 0x" + String.format("%08x", actualCrc) + " computed over the frame");
        }
        Frame frame = new PayloadReader(type, epoch, in, start, payloadBytes).read(maxPagesPerFrame);
        // Only after the frame exists: a retained slice in it now owns its part of the buffer.
        in.skipBytes(payloadBytes);
        out.add(frame);
        state = State.READ_HEADER;
    }

    private CorruptFrameException corrupt(String problem) {
        return new CorruptFrameException(describe(type, epoch) + ": " + problem);
    }
}
