package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

import static io.checkpointd.replication.wire.FrameCodec.*;

/**
 * Reads the fields of one payload whose framing and CRC {@link FrameDecoder} has already checked. Every
 * count, length, enum code and boolean is checked against the layout of {@link FrameCodec} and against the
 * bytes that remain before anything is allocated from it; a violation is a {@link CorruptFrameException}.
 *
 * <p>Reads by absolute index and leaves the buffer's indexes alone; the caller skips the payload.
 */
final class PayloadReader {

    private final int type;
    private final long epoch;
    private final ByteBuf buf;
    private final int start;
    private final int payloadBytes;

    /** The payload is {@code buf[start, start + payloadBytes)}, all readable. */
    PayloadReader(int type, long epoch, ByteBuf buf, int start, int payloadBytes) {
        this.type = type;
        this.epoch = epoch;
        this.buf = buf;
        this.start = start;
        this.payloadBytes = payloadBytes;
    }

    /**
     * The frame this payload holds. Pages and device state hold a retained slice of {@code buf}, created
     * last, so nothing needs releasing when this throws.
     *
     * @throws CorruptFrameException when a field is invalid
     */
    Frame read(int maxPagesPerFrame) {
        return switch (type) {
            case TYPE_HELLO -> hello();
            case TYPE_HELLO_ACK -> new HelloAck(
                    buf.getInt(start + HELLO_ACK_PROTOCOL_VERSION_OFFSET),
                    epoch,
                    string("rejection", HELLO_ACK_REJECTION_OFFSET),
                    port(buf.getInt(start + HELLO_ACK_HEARTBEAT_PORT_OFFSET)));
            case TYPE_CKPT_BEGIN -> new CheckpointBegin(
                    epoch,
                    bool("full", CKPT_BEGIN_FULL_OFFSET),
                    nonNegative("pageCount", buf.getLong(start + CKPT_BEGIN_PAGE_COUNT_OFFSET)),
                    nonNegative("deviceStateBytes", buf.getLong(start + CKPT_BEGIN_DEVICE_STATE_BYTES_OFFSET)));
            case TYPE_PAGES -> pages(maxPagesPerFrame);
            case TYPE_DEVICE_STATE -> new DeviceState(epoch, buf.retainedSlice(start, payloadBytes));
            case TYPE_CKPT_END -> new CheckpointEnd(
                    epoch,
                    nonNegative("pageCount", buf.getLong(start + CKPT_END_PAGE_COUNT_OFFSET)),
                    nonNegative("deviceStateBytes", buf.getLong(start + CKPT_END_DEVICE_STATE_BYTES_OFFSET)),
                    buf.getLong(start + CKPT_END_DIGEST_OFFSET));
            case TYPE_ACK -> new Ack(epoch);
            case TYPE_GOODBYE -> new Goodbye();
            case TYPE_HANDOVER -> new Handover();
            case TYPE_STANDBY -> new Standby(bool("ready", STANDBY_READY_OFFSET));
            case TYPE_DISK_WRITE -> diskWrite();
            case TYPE_HEARTBEAT -> new Heartbeat(
                    nonNegative("sequence", buf.getLong(start + HEARTBEAT_SEQUENCE_OFFSET)),
                    buf.getLong(start + HEARTBEAT_SENT_NANOS_OFFSET),
                    buf.getLong(start + HEARTBEAT_ECHO_NANOS_OFFSET));
            default -> throw new IllegalStateException("type " + type + " passed the type check");
        };
    }

    private Pages pages(int maxPagesPerFrame) {
        int pageCount = buf.getInt(start + PAGES_PAGE_COUNT_OFFSET);
        if (pageCount < 0) {
            throw corrupt("pageCount " + pageCount + " is negative");
        }
        if (pageCount > maxPagesPerFrame) {
            throw corrupt("pageCount " + pageCount + " exceeds the limit of " + maxPagesPerFrame);
        }
        int code = buf.getUnsignedByte(start + PAGES_ENCODING_OFFSET);
        PageEncoding encoding = PageEncoding.ofCode(code);
        if (encoding == null) {
            throw corrupt("encoding " + code + " is unknown");
        }
        long pageNumberBytes = (long) pageCount * PAGE_NUMBER_BYTES;
        int remaining = payloadBytes - PAGES_PAGE_NUMBERS_OFFSET;
        if (pageNumberBytes > remaining) {
            throw corrupt("pageCount " + pageCount + " needs " + pageNumberBytes
                    + " bytes of page numbers but only " + remaining + " remain");
        }
        long[] pageNumbers = new long[pageCount];
        int index = start + PAGES_PAGE_NUMBERS_OFFSET;
        for (int i = 0; i < pageCount; i++, index += PAGE_NUMBER_BYTES) {
            long pageNumber = buf.getLong(index);
            if (pageNumber < 0) {
                throw corrupt("pageNumbers[" + i + "] " + pageNumber + " is negative");
            }
            pageNumbers[i] = pageNumber;
        }
        ByteBuf data = buf.retainedSlice(index, start + payloadBytes - index);
        return new Pages(epoch, pageNumbers, encoding, data);
    }

    private Hello hello() {
        int version = buf.getInt(start + HELLO_PROTOCOL_VERSION_OFFSET);
        if (version != PROTOCOL_VERSION) {
            return new Hello(version, "", 0, 0, null); // refused by the backup, with its version named
        }
        if (payloadBytes < HELLO_MIN_PAYLOAD_BYTES) {
            throw corrupt("payload length " + payloadBytes + " is below the minimum of " + HELLO_MIN_PAYLOAD_BYTES);
        }
        int nameAt = HELLO_DOMAIN_NAME_OFFSET;
        int driverAt = innerStringEnd("domainName", nameAt);
        int descriptionAt = innerStringEnd("driver", driverAt);
        String name = utf8("domainName", nameAt + STRING_LENGTH_BYTES, driverAt - nameAt - STRING_LENGTH_BYTES);
        String driver = utf8("driver", driverAt + STRING_LENGTH_BYTES, descriptionAt - driverAt - STRING_LENGTH_BYTES);
        GuestSpec guest = new GuestSpec(driver,
                nonNegative("ramBytes", buf.getLong(start + HELLO_RAM_BYTES_OFFSET)),
                (int) nonNegative("pageSizeBytes", buf.getInt(start + HELLO_PAGE_SIZE_OFFSET)),
                nonNegative("diskBytes", buf.getLong(start + HELLO_DISK_BYTES_OFFSET)),
                longString("description", descriptionAt, MAX_DESCRIPTION_BYTES));
        return new Hello(version, name, port(buf.getInt(start + HELLO_HEARTBEAT_PORT_OFFSET)),
                buf.getLong(start + HELLO_SESSION_TOKEN_OFFSET), guest);
    }

    private DiskWrite diskWrite() {
        int code = buf.getUnsignedByte(start + DISK_WRITE_KIND_OFFSET);
        DiskWrite.Kind kind = DiskWrite.Kind.ofCode(code);
        if (kind == null) {
            throw corrupt("kind " + code + " is unknown");
        }
        long offset = nonNegative("offsetBytes", buf.getLong(start + DISK_WRITE_OFFSET_OFFSET));
        long length = nonNegative("lengthBytes", buf.getLong(start + DISK_WRITE_LENGTH_OFFSET));
        int dataBytes = payloadBytes - DISK_WRITE_FIXED_BYTES;
        if (kind == DiskWrite.Kind.WRITE ? dataBytes != length : dataBytes != 0) {
            throw corrupt(kind + " of " + length + " bytes carries " + dataBytes + " bytes of data");
        }
        return new DiskWrite(epoch, kind, offset, length, buf.retainedSlice(start + DISK_WRITE_FIXED_BYTES, dataBytes));
    }

    private int port(int value) {
        if (value < 0 || value > MAX_PORT) {
            throw corrupt("heartbeatPort " + value + " is not a port (0.." + MAX_PORT + ")");
        }
        return value;
    }

    /** A string at {@code offset} that must end the payload exactly. */
    private String string(String field, int offset) {
        int lengthBytes = buf.getUnsignedShort(start + offset);
        return endingString(field, offset, STRING_LENGTH_BYTES, lengthBytes, MAX_STRING_BYTES);
    }

    /**
     * Checks a string with a uint16 length at {@code offset} that others follow (at least a long string's
     * length); returns where the next field starts.
     */
    private int innerStringEnd(String field, int offset) {
        int lengthBytes = buf.getUnsignedShort(start + offset);
        if (lengthBytes > MAX_STRING_BYTES) {
            throw corrupt(field + " length " + lengthBytes + " exceeds the limit of " + MAX_STRING_BYTES);
        }
        int end = offset + STRING_LENGTH_BYTES + lengthBytes;
        if (end + LONG_STRING_LENGTH_BYTES > payloadBytes) {
            throw corrupt(field + " length " + lengthBytes + " does not leave room for the fields after it");
        }
        return end;
    }

    /** A string with an int32 length at {@code offset}, which must end the payload exactly. */
    private String longString(String field, int offset, int limit) {
        int lengthBytes = buf.getInt(start + offset);
        if (lengthBytes < 0) {
            throw corrupt(field + " length " + lengthBytes + " is negative");
        }
        return endingString(field, offset, LONG_STRING_LENGTH_BYTES, lengthBytes, limit);
    }

    private String endingString(String field, int offset, int lengthFieldBytes, int lengthBytes, int limit) {
        if (lengthBytes > limit) {
            throw corrupt(field + " length " + lengthBytes + " exceeds the limit of " + limit);
        }
        int remaining = payloadBytes - offset - lengthFieldBytes;
        if (lengthBytes > remaining) {
            throw corrupt(field + " length " + lengthBytes + " does not fit the " + remaining + " bytes left");
        }
        if (lengthBytes < remaining) {
            throw corrupt((remaining - lengthBytes) + " trailing bytes after " + field);
        }
        return utf8(field, offset + lengthFieldBytes, lengthBytes);
    }

    private String utf8(String field, int offset, int lengthBytes) {
        try {
            // A fresh decoder reports malformed input instead of replacing it, keeping the encoding canonical.
            return StandardCharsets.UTF_8.newDecoder().decode(buf.nioBuffer(start + offset, lengthBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CorruptFrameException(describe(type, epoch) + ": " + field + " is not valid UTF-8", e);
        }
    }

    private boolean bool(String field, int offset) {
        byte value = buf.getByte(start + offset);
        return switch (value) {
            case 0 -> false;
            case 1 -> true;
            default -> throw corrupt(field + " " + value + " is not a boolean (0 or 1)");
        };
    }

    private long nonNegative(String field, long value) {
        if (value < 0) {
            throw corrupt(field + " " + value + " is negative");
        }
        return value;
    }

    private CorruptFrameException corrupt(String problem) {
        return new CorruptFrameException(describe(type, epoch) + ": " + problem);
    }
}
