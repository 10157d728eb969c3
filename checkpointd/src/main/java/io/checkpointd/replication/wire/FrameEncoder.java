package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;

import static io.checkpointd.replication.wire.FrameCodec.*;

/**
 * Writes {@link Frame}s in the layout of {@link FrameCodec}, one {@link ByteBuf} per frame.
 *
 * <p>Page and device-state data is not copied: such a frame becomes a composite of a small header buffer
 * and the frame's own data buffer (retained), and the CRC is computed over the data's NIO views. The
 * frame itself is released exactly once, by {@link MessageToMessageEncoder}, whether encoding succeeds
 * or fails.
 *
 * <p>A frame the decoder would reject as corrupt (negative epoch, count or page number, string longer
 * than {@link FrameCodec#MAX_STRING_BYTES}, frame longer than an int can describe) fails the write with
 * an {@link io.netty.handler.codec.EncoderException} instead of being sent. Limits known only to the
 * receiver ({@code maxFrameBytes}, {@code maxPagesPerFrame}) are the sender's to respect.
 *
 * <p>Stateless, so one instance may serve every channel.
 */
@Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {

    public FrameEncoder() {
        super(Frame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
        out.add(encode(ctx.alloc(), frame));
    }

    /**
     * Encodes one frame. The result holds its own reference to any data buffer of {@code frame}; the
     * caller still owns (and releases) {@code frame}.
     *
     * @throws IllegalArgumentException when the frame cannot be encoded (see the class comment)
     */
    static ByteBuf encode(ByteBufAllocator alloc, Frame frame) {
        return switch (frame) {
            case Pages p -> encodePages(alloc, p);
            case DeviceState d -> withData(alloc, header(alloc, frame, 0, d.data()), d.data());
            case DiskWrite w -> {
                requireNonNegative(frame, "offsetBytes", w.offsetBytes());
                requireNonNegative(frame, "lengthBytes", w.lengthBytes());
                int dataBytes = w.data().readableBytes();
                if (w.kind() == DiskWrite.Kind.WRITE ? dataBytes != w.lengthBytes() : dataBytes != 0) {
                    throw invalid(frame, w.kind() + " of " + w.lengthBytes() + " bytes carries " + dataBytes
                            + " bytes of data");
                }
                ByteBuf buf = header(alloc, frame, DISK_WRITE_FIXED_BYTES, w.data());
                buf.setByte(HEADER_BYTES + DISK_WRITE_KIND_OFFSET, w.kind().code());
                buf.setLong(HEADER_BYTES + DISK_WRITE_OFFSET_OFFSET, w.offsetBytes());
                buf.setLong(HEADER_BYTES + DISK_WRITE_LENGTH_OFFSET, w.lengthBytes());
                yield withData(alloc, buf, w.data());
            }
            case Hello h when h.guest() == null -> {
                // Another version's HELLO as decoded (see Hello): its version is all there is of it.
                ByteBuf buf = header(alloc, frame, HELLO_VERSION_BYTES, null);
                buf.setInt(HEADER_BYTES + HELLO_PROTOCOL_VERSION_OFFSET, h.protocolVersion());
                yield withCrc(buf, null);
            }
            case Hello h -> {
                GuestSpec guest = h.guest();
                byte[] name = utf8(frame, "domainName", h.domainName());
                byte[] driver = utf8(frame, "driver", guest.driver());
                byte[] description = guest.description().getBytes(StandardCharsets.UTF_8);
                if (description.length > MAX_DESCRIPTION_BYTES) {
                    throw invalid(frame, "description is " + description.length + " bytes of UTF-8, over the limit of "
                            + MAX_DESCRIPTION_BYTES);
                }
                requireNonNegative(frame, "ramBytes", guest.ramBytes());
                requireNonNegative(frame, "pageSizeBytes", guest.pageSizeBytes());
                requireNonNegative(frame, "diskBytes", guest.diskBytes());
                requirePort(frame, h.heartbeatPort());
                ByteBuf buf = header(alloc, frame,
                        HELLO_MIN_PAYLOAD_BYTES + name.length + driver.length + description.length, null);
                buf.setInt(HEADER_BYTES + HELLO_PROTOCOL_VERSION_OFFSET, h.protocolVersion());
                buf.setLong(HEADER_BYTES + HELLO_RAM_BYTES_OFFSET, guest.ramBytes());
                buf.setInt(HEADER_BYTES + HELLO_PAGE_SIZE_OFFSET, guest.pageSizeBytes());
                buf.setInt(HEADER_BYTES + HELLO_HEARTBEAT_PORT_OFFSET, h.heartbeatPort());
                buf.setLong(HEADER_BYTES + HELLO_SESSION_TOKEN_OFFSET, h.sessionToken());
                buf.setLong(HEADER_BYTES + HELLO_DISK_BYTES_OFFSET, guest.diskBytes());
                int at = HEADER_BYTES + HELLO_DOMAIN_NAME_OFFSET;
                setString(buf, at, name);
                at += STRING_LENGTH_BYTES + name.length;
                setString(buf, at, driver);
                at += STRING_LENGTH_BYTES + driver.length;
                buf.setInt(at, description.length);
                buf.setBytes(at + LONG_STRING_LENGTH_BYTES, description);
                yield withCrc(buf, null);
            }
            case HelloAck a -> {
                byte[] rejection = utf8(frame, "rejection", a.rejection());
                ByteBuf buf = header(alloc, frame, HELLO_ACK_MIN_PAYLOAD_BYTES + rejection.length, null);
                requirePort(frame, a.heartbeatPort());
                buf.setInt(HEADER_BYTES + HELLO_ACK_PROTOCOL_VERSION_OFFSET, a.protocolVersion());
                buf.setInt(HEADER_BYTES + HELLO_ACK_HEARTBEAT_PORT_OFFSET, a.heartbeatPort());
                setString(buf, HEADER_BYTES + HELLO_ACK_REJECTION_OFFSET, rejection);
                yield withCrc(buf, null);
            }
            case CheckpointBegin b -> {
                requireNonNegative(frame, "pageCount", b.pageCount());
                requireNonNegative(frame, "deviceStateBytes", b.deviceStateBytes());
                ByteBuf buf = header(alloc, frame, CKPT_BEGIN_PAYLOAD_BYTES, null);
                buf.setLong(HEADER_BYTES + CKPT_BEGIN_PAGE_COUNT_OFFSET, b.pageCount());
                buf.setLong(HEADER_BYTES + CKPT_BEGIN_DEVICE_STATE_BYTES_OFFSET, b.deviceStateBytes());
                buf.setByte(HEADER_BYTES + CKPT_BEGIN_FULL_OFFSET, b.full() ? 1 : 0);
                yield withCrc(buf, null);
            }
            case CheckpointEnd e -> {
                requireNonNegative(frame, "pageCount", e.pageCount());
                requireNonNegative(frame, "deviceStateBytes", e.deviceStateBytes());
                ByteBuf buf = header(alloc, frame, CKPT_END_PAYLOAD_BYTES, null);
                buf.setLong(HEADER_BYTES + CKPT_END_PAGE_COUNT_OFFSET, e.pageCount());
                buf.setLong(HEADER_BYTES + CKPT_END_DEVICE_STATE_BYTES_OFFSET, e.deviceStateBytes());
                buf.setLong(HEADER_BYTES + CKPT_END_DIGEST_OFFSET, e.digest());
                yield withCrc(buf, null);
            }
            case Ack _ -> withCrc(header(alloc, frame, ACK_PAYLOAD_BYTES, null), null);
            case Goodbye _ -> withCrc(header(alloc, frame, GOODBYE_PAYLOAD_BYTES, null), null);
            case Handover _ -> withCrc(header(alloc, frame, HANDOVER_PAYLOAD_BYTES, null), null);
            case Standby st -> {
                ByteBuf buf = header(alloc, frame, STANDBY_PAYLOAD_BYTES, null);
                buf.setByte(HEADER_BYTES + STANDBY_READY_OFFSET, st.ready() ? 1 : 0);
                yield withCrc(buf, null);
            }
            case Heartbeat h -> {
                requireNonNegative(frame, "sequence", h.sequence());
                ByteBuf buf = header(alloc, frame, HEARTBEAT_PAYLOAD_BYTES, null);
                buf.setLong(HEADER_BYTES + HEARTBEAT_SEQUENCE_OFFSET, h.sequence());
                buf.setLong(HEADER_BYTES + HEARTBEAT_SENT_NANOS_OFFSET, h.sentNanos());
                buf.setLong(HEADER_BYTES + HEARTBEAT_ECHO_NANOS_OFFSET, h.echoNanos());
                yield withCrc(buf, null);
            }
        };
    }

    private static ByteBuf encodePages(ByteBufAllocator alloc, Pages p) {
        int encoding = p.encoding().code();
        long[] pageNumbers = p.pageNumbers();
        for (int i = 0; i < pageNumbers.length; i++) {
            if (pageNumbers[i] < 0) {
                throw invalid(p, "pageNumbers[" + i + "] " + pageNumbers[i] + " is negative");
            }
        }
        int fixedBytes = PAGES_MIN_PAYLOAD_BYTES + checkedSize(p, (long) pageNumbers.length * PAGE_NUMBER_BYTES);
        ByteBuf buf = header(alloc, p, fixedBytes, p.data());
        buf.setInt(HEADER_BYTES + PAGES_PAGE_COUNT_OFFSET, pageNumbers.length);
        buf.setByte(HEADER_BYTES + PAGES_ENCODING_OFFSET, encoding);
        int index = HEADER_BYTES + PAGES_PAGE_NUMBERS_OFFSET;
        for (long pageNumber : pageNumbers) {
            buf.setLong(index, pageNumber);
            index += PAGE_NUMBER_BYTES;
        }
        return withData(alloc, buf, p.data());
    }

    /**
     * Allocates the frame's buffer, {@code HEADER_BYTES + fixedPayloadBytes} long with its writer index at
     * the end, and fills in everything but the CRC. {@code data}, if any, follows in its own buffer and
     * counts towards the length field.
     */
    private static ByteBuf header(ByteBufAllocator alloc, Frame frame, int fixedPayloadBytes, ByteBuf data) {
        if (frame.epoch() < 0) {
            throw invalid(frame, "epoch is negative");
        }
        long payloadBytes = (long) fixedPayloadBytes + (data == null ? 0 : data.readableBytes());
        if (payloadBytes > Integer.MAX_VALUE - MIN_LENGTH) {
            throw invalid(frame, "payload of " + payloadBytes + " bytes does not fit an int32 length");
        }
        int frameBytes = HEADER_BYTES + fixedPayloadBytes;
        ByteBuf buf = alloc.buffer(frameBytes, frameBytes);
        buf.writerIndex(frameBytes);
        buf.setInt(LENGTH_OFFSET, MIN_LENGTH + (int) payloadBytes);
        buf.setByte(TYPE_OFFSET, typeOf(frame));
        buf.setMedium(RESERVED_OFFSET, 0);
        buf.setLong(EPOCH_OFFSET, frame.epoch());
        return buf;
    }

    /** Computes and stores the CRC over the header, the rest of {@code buf}, then {@code data}. */
    private static ByteBuf withCrc(ByteBuf buf, ByteBuf data) {
        CRC32C crc = new CRC32C();
        updateCrc(crc, buf, TYPE_OFFSET, CRC_COVERED_HEADER_BYTES);
        updateCrc(crc, buf, HEADER_BYTES, buf.writerIndex() - HEADER_BYTES);
        if (data != null) {
            updateCrc(crc, data, data.readerIndex(), data.readableBytes());
        }
        buf.setInt(CRC_OFFSET, (int) crc.getValue());
        return buf;
    }

    private static ByteBuf withData(ByteBufAllocator alloc, ByteBuf header, ByteBuf data) {
        withCrc(header, data);
        if (!data.isReadable()) {
            return header;
        }
        try {
            // The composite takes ownership of the header and of one new reference to the data.
            return alloc.compositeBuffer(2).addComponents(true, header, data.retain());
        } catch (RuntimeException | Error e) {
            header.release();
            throw e;
        }
    }

    private static byte[] utf8(Frame frame, String field, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_STRING_BYTES) {
            throw invalid(frame, field + " is " + bytes.length + " bytes of UTF-8, over the limit of "
                    + MAX_STRING_BYTES);
        }
        return bytes;
    }

    private static void setString(ByteBuf buf, int index, byte[] utf8) {
        buf.setShort(index, utf8.length);
        buf.setBytes(index + STRING_LENGTH_BYTES, utf8);
    }

    private static void requirePort(Frame frame, int port) {
        if (port < 0 || port > MAX_PORT) {
            throw invalid(frame, "heartbeatPort " + port + " is not a port (0.." + MAX_PORT + ")");
        }
    }

    private static void requireNonNegative(Frame frame, String field, long value) {
        if (value < 0) {
            throw invalid(frame, field + " " + value + " is negative");
        }
    }

    private static int checkedSize(Frame frame, long bytes) {
        if (bytes > Integer.MAX_VALUE - MIN_LENGTH - PAGES_MIN_PAYLOAD_BYTES) {
            throw invalid(frame, "payload of over " + bytes + " bytes does not fit an int32 length");
        }
        return (int) bytes;
    }

    private static IllegalArgumentException invalid(Frame frame, String problem) {
        return new IllegalArgumentException(describe(typeOf(frame), frame.epoch()) + ": " + problem);
    }
}
