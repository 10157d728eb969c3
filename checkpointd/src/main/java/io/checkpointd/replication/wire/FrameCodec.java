package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The byte layout of replication frames, shared by {@link FrameEncoder} and {@link FrameDecoder}.
 *
 * <h2>Frame</h2>
 * All integers are big-endian, signed unless marked {@code uint}.
 * <pre>
 *  0         4      5          8                 16        20
 *  +---------+------+----------+-----------------+---------+-----------------
 *  | length  | type | reserved | epoch (int64)   | crc32c  | payload ...
 *  +---------+------+----------+-----------------+---------+-----------------
 *  length   int32: bytes after the length field, 16 + payload length
 *  type     uint8: one of the TYPE_ codes below
 *  reserved 3 bytes, zero
 *  epoch    int64 &gt;= 0: {@link Frame#epoch()}; always 0 for HELLO and HEARTBEAT
 *  crc32c   uint32: {@link CRC32C} over bytes 4..15 (type, reserved, epoch), then over the payload
 * </pre>
 *
 * <h2>Payloads</h2>
 * A string is {@code uint16} byte count then that many bytes of UTF-8, at most {@link #MAX_STRING_BYTES}.
 * A boolean is one byte, 0 or 1. Counts and sizes are never negative.
 * <pre>
 * HELLO (1)
 *  0                 4          12              16              20             28          36
 *  +-----------------+----------+---------------+---------------+--------------+-----------+--------------------
 *  | protocolVersion | ramBytes | pageSizeBytes | heartbeatPort | sessionToken | diskBytes | domainName (string)
 *  | int32           | int64    | int32         | int32 0..65535| int64        | int64     |
 *  +-----------------+----------+---------------+---------------+--------------+-----------+--------------------
 *  then driver (string), then description (long string): the {@link GuestSpec} with the sizes above
 *  a long string is an int32 byte count, at most MAX_DESCRIPTION_BYTES, then UTF-8; it ends the payload
 *  Only protocolVersion is read of a HELLO whose version differs (see {@link Hello}), so that a peer of
 *  another version gets a refusal that says so; the rest of its payload is not parsed.
 *
 * HELLO_ACK (2), header epoch = lastCommittedEpoch
 *  0                 4               8
 *  +-----------------+---------------+----------------------------------------
 *  | protocolVersion | heartbeatPort | rejection (string, empty = accepted)
 *  | int32           | int32 0..65535|
 *  +-----------------+---------------+----------------------------------------
 *
 * CKPT_BEGIN (3)                              CKPT_END (6)
 *  0           8                  16     17   0           8                  16         24
 *  +-----------+------------------+------+    +-----------+------------------+----------+
 *  | pageCount | deviceStateBytes | full |    | pageCount | deviceStateBytes | digest   |
 *  | int64     | int64            | bool |    | int64     | int64            | int64    |
 *  +-----------+------------------+------+    +-----------+------------------+----------+
 *
 * PAGES (4)
 *  0           4          5                          5 + 8 * pageCount
 *  +-----------+----------+--------------------------+------------------------------
 *  | pageCount | encoding | pageNumbers              | data: the rest of the payload
 *  | int32     | uint8    | pageCount x int64 &gt;= 0   |
 *  +-----------+----------+--------------------------+------------------------------
 *  encoding is a {@link PageEncoding#code()}; pageCount is also bounded by the receiver's limit
 *
 * DEVICE_STATE (5): the whole payload is the chunk's data.
 * ACK (7), GOODBYE (9), HANDOVER (11): no payload.
 *
 * STANDBY (12), backup to primary
 *  0
 *  +-------+
 *  | ready |
 *  | bool  |
 *  +-------+
 *
 * DISK_WRITE (10)
 *  0      1             9             17
 *  +------+-------------+-------------+---------------------------------
 *  | kind | offsetBytes | lengthBytes | data: the rest (WRITE only; lengthBytes bytes)
 *  | uint8| int64 &gt;= 0 | int64 &gt;= 0 |
 *  +------+-------------+-------------+---------------------------------
 *  kind is a {@link DiskWrite.Kind#code()}; TRIM and ZEROES carry no data
 *
 * HEARTBEAT (8)
 *  0           8           16          24
 *  +-----------+-----------+-----------+
 *  | sequence  | sentNanos | echoNanos |
 *  | int64 &gt;= 0| int64     | int64     |
 *  +-----------+-----------+-----------+
 * </pre>
 * protocolVersion, digest, sentNanos and echoNanos may hold any value; every other field is checked as
 * stated above by the decoder. The encoding is canonical: a frame has exactly one valid byte form (reserved
 * bytes zero, booleans 0 or 1, strict UTF-8, no bytes after a fixed-size payload or a final string), so
 * decoding then encoding gives back the bytes received.
 */
public final class FrameCodec {

    /**
     * Sent in {@link Hello} and {@link HelloAck}; a peer speaking another version is refused. Version 2 added
     * STANDBY; version 3 made HELLO's guest typed ({@link GuestSpec}: driver, sizes, the driver's description).
     * HELLO_ACK's layout has not changed since version 1, so a peer of any version reads why it was refused.
     */
    public static final int PROTOCOL_VERSION = 3;

    public static final int LENGTH_OFFSET = 0;
    public static final int LENGTH_BYTES = 4;
    public static final int TYPE_OFFSET = 4;
    public static final int RESERVED_OFFSET = 5;
    public static final int RESERVED_BYTES = 3;
    public static final int EPOCH_OFFSET = 8;
    public static final int CRC_OFFSET = 16;
    public static final int HEADER_BYTES = 20;
    /** The smallest valid length field: a frame with an empty payload. */
    public static final int MIN_LENGTH = HEADER_BYTES - LENGTH_BYTES;
    /** The header bytes the CRC covers, from {@link #TYPE_OFFSET}: type, reserved, epoch. */
    public static final int CRC_COVERED_HEADER_BYTES = CRC_OFFSET - TYPE_OFFSET;

    public static final int MAX_STRING_BYTES = 1024;
    public static final int STRING_LENGTH_BYTES = 2;

    public static final int TYPE_HELLO = 1;
    public static final int TYPE_HELLO_ACK = 2;
    public static final int TYPE_CKPT_BEGIN = 3;
    public static final int TYPE_PAGES = 4;
    public static final int TYPE_DEVICE_STATE = 5;
    public static final int TYPE_CKPT_END = 6;
    public static final int TYPE_ACK = 7;
    public static final int TYPE_HEARTBEAT = 8;
    public static final int TYPE_GOODBYE = 9;
    public static final int TYPE_DISK_WRITE = 10;
    public static final int TYPE_HANDOVER = 11;
    public static final int TYPE_STANDBY = 12;

    // Payload offsets, relative to the first payload byte.
    public static final int HELLO_PROTOCOL_VERSION_OFFSET = 0;
    public static final int HELLO_RAM_BYTES_OFFSET = 4;
    public static final int HELLO_PAGE_SIZE_OFFSET = 12;
    public static final int HELLO_HEARTBEAT_PORT_OFFSET = 16;
    public static final int HELLO_SESSION_TOKEN_OFFSET = 20;
    public static final int HELLO_DISK_BYTES_OFFSET = 28;
    public static final int HELLO_DOMAIN_NAME_OFFSET = 36;
    /** What every protocol version's HELLO starts with: the version. */
    public static final int HELLO_VERSION_BYTES = 4;
    public static final int LONG_STRING_LENGTH_BYTES = 4;
    /** Bound on HELLO's description (a libvirt domain XML is a few KiB). */
    public static final int MAX_DESCRIPTION_BYTES = 1 << 20;
    /** HELLO payload of this version with an empty domain name, driver and description. */
    public static final int HELLO_MIN_PAYLOAD_BYTES = HELLO_DOMAIN_NAME_OFFSET + 2 * STRING_LENGTH_BYTES
            + LONG_STRING_LENGTH_BYTES;
    public static final int MAX_PORT = 65_535;

    public static final int HELLO_ACK_PROTOCOL_VERSION_OFFSET = 0;
    public static final int HELLO_ACK_HEARTBEAT_PORT_OFFSET = 4;
    public static final int HELLO_ACK_REJECTION_OFFSET = 8;
    /** HELLO_ACK payload with an empty rejection (accepted). */
    public static final int HELLO_ACK_MIN_PAYLOAD_BYTES = HELLO_ACK_REJECTION_OFFSET + STRING_LENGTH_BYTES;

    public static final int CKPT_BEGIN_PAGE_COUNT_OFFSET = 0;
    public static final int CKPT_BEGIN_DEVICE_STATE_BYTES_OFFSET = 8;
    public static final int CKPT_BEGIN_FULL_OFFSET = 16;
    public static final int CKPT_BEGIN_PAYLOAD_BYTES = 17;

    public static final int PAGES_PAGE_COUNT_OFFSET = 0;
    public static final int PAGES_ENCODING_OFFSET = 4;
    public static final int PAGES_PAGE_NUMBERS_OFFSET = 5;
    public static final int PAGE_NUMBER_BYTES = 8;
    /** PAGES payload carrying no page and no data. */
    public static final int PAGES_MIN_PAYLOAD_BYTES = PAGES_PAGE_NUMBERS_OFFSET;

    public static final int CKPT_END_PAGE_COUNT_OFFSET = 0;
    public static final int CKPT_END_DEVICE_STATE_BYTES_OFFSET = 8;
    public static final int CKPT_END_DIGEST_OFFSET = 16;
    public static final int CKPT_END_PAYLOAD_BYTES = 24;

    public static final int ACK_PAYLOAD_BYTES = 0;
    public static final int GOODBYE_PAYLOAD_BYTES = 0;
    public static final int HANDOVER_PAYLOAD_BYTES = 0;
    public static final int STANDBY_READY_OFFSET = 0;
    public static final int STANDBY_PAYLOAD_BYTES = 1;

    public static final int DISK_WRITE_KIND_OFFSET = 0;
    public static final int DISK_WRITE_OFFSET_OFFSET = 1;
    public static final int DISK_WRITE_LENGTH_OFFSET = 9;
    public static final int DISK_WRITE_FIXED_BYTES = 17;

    public static final int HEARTBEAT_SEQUENCE_OFFSET = 0;
    public static final int HEARTBEAT_SENT_NANOS_OFFSET = 8;
    public static final int HEARTBEAT_ECHO_NANOS_OFFSET = 16;
    public static final int HEARTBEAT_PAYLOAD_BYTES = 24;

    private FrameCodec() {
    }

    /** The name of a type code as used in error messages, or null when the code is unknown. */
    public static String typeName(int type) {
        return switch (type) {
            case TYPE_HELLO -> "HELLO";
            case TYPE_HELLO_ACK -> "HELLO_ACK";
            case TYPE_CKPT_BEGIN -> "CKPT_BEGIN";
            case TYPE_PAGES -> "PAGES";
            case TYPE_DEVICE_STATE -> "DEVICE_STATE";
            case TYPE_CKPT_END -> "CKPT_END";
            case TYPE_ACK -> "ACK";
            case TYPE_HEARTBEAT -> "HEARTBEAT";
            case TYPE_GOODBYE -> "GOODBYE";
            case TYPE_DISK_WRITE -> "DISK_WRITE";
            case TYPE_HANDOVER -> "HANDOVER";
            case TYPE_STANDBY -> "STANDBY";
            default -> null;
        };
    }

    /** The type code of a frame. */
    public static int typeOf(Frame frame) {
        return switch (frame) {
            case Hello _ -> TYPE_HELLO;
            case HelloAck _ -> TYPE_HELLO_ACK;
            case CheckpointBegin _ -> TYPE_CKPT_BEGIN;
            case Pages _ -> TYPE_PAGES;
            case DeviceState _ -> TYPE_DEVICE_STATE;
            case CheckpointEnd _ -> TYPE_CKPT_END;
            case Ack _ -> TYPE_ACK;
            case Heartbeat _ -> TYPE_HEARTBEAT;
            case Goodbye _ -> TYPE_GOODBYE;
            case DiskWrite _ -> TYPE_DISK_WRITE;
            case Handover _ -> TYPE_HANDOVER;
            case Standby _ -> TYPE_STANDBY;
        };
    }

    /** Whether frames of this type always carry epoch 0 (the record has no epoch of its own). */
    static boolean hasNoEpoch(int type) {
        return type == TYPE_HELLO || type == TYPE_HEARTBEAT || type == TYPE_GOODBYE || type == TYPE_HANDOVER
                || type == TYPE_STANDBY;
    }

    /** "PAGES frame (epoch 12)": how error messages name the frame at fault. */
    static String describe(int type, long epoch) {
        String name = typeName(type);
        return (name == null ? "type " + type : name) + " frame (epoch " + epoch + ")";
    }

    /**
     * Feeds {@code length} bytes of {@code buf} from {@code index} to {@code crc} through NIO views, so
     * page data is never copied. Does not change the buffer's indexes.
     */
    static void updateCrc(CRC32C crc, ByteBuf buf, int index, int length) {
        if (length == 0) {
            return;
        }
        // nioBuffers() returns fresh views (not the buffer's cached internal one), so a buffer shared with
        // another thread is safe to read here.
        for (ByteBuffer part : buf.nioBuffers(index, length)) {
            crc.update(part);
        }
    }
}
