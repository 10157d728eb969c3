package io.checkpointd.sim;

import io.netty.buffer.ByteBuf;

/**
 * The sim guest service's UDP messages. One request per datagram, one reply per request.
 *
 * <pre>
 * request (21 bytes)                  reply (22 bytes)
 *  0 int64 request id                  0 int64 request id (echoed)
 *  8 int8  op: 1 SET, 2 GET            8 int8  status: 0 OK, 1 BAD_REQUEST
 *  9 int32 key                         9 int8  op (echoed)
 * 13 int64 value (SET only)           10 int32 key
 *                                     14 int64 value: after SET the value written, after GET the value held
 * </pre>
 */
public final class KvProtocol {
    public static final int REQUEST_BYTES = 21;
    public static final int REPLY_BYTES = 22;
    public static final byte OP_SET = 1;
    public static final byte OP_GET = 2;
    public static final byte STATUS_OK = 0;
    public static final byte STATUS_BAD_REQUEST = 1;

    private KvProtocol() {
    }

    public record Request(long requestId, byte op, int key, long value) {
        public void writeTo(ByteBuf out) {
            out.writeLong(requestId).writeByte(op).writeInt(key).writeLong(value);
        }

        /** Parses a request, or returns null when the datagram is not one. */
        public static Request parse(ByteBuf in) {
            if (in.readableBytes() != REQUEST_BYTES) {
                return null;
            }
            return new Request(in.readLong(), in.readByte(), in.readInt(), in.readLong());
        }
    }

    public record Reply(long requestId, byte status, byte op, int key, long value) {
        public void writeTo(ByteBuf out) {
            out.writeLong(requestId).writeByte(status).writeByte(op).writeInt(key).writeLong(value);
        }

        public static Reply parse(ByteBuf in) {
            if (in.readableBytes() != REPLY_BYTES) {
                return null;
            }
            return new Reply(in.readLong(), in.readByte(), in.readByte(), in.readInt(), in.readLong());
        }
    }
}
