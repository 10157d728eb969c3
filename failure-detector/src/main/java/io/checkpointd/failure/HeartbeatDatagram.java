package io.checkpointd.failure;

import io.netty.buffer.ByteBuf;

/**
 * One heartbeat datagram, as sent by {@link HeartbeatChannel}. Fixed length, big-endian (network order):
 *
 * <pre>
 *  0        4     5               13              21              29              37              45      61
 *  +--------+-----+---------------+---------------+---------------+---------------+---------------+-------+
 *  | magic  | ver | sessionToken  |   sequence    |   sentNanos   |   echoNanos   | echoDelayNanos|  tag  |
 *  | int32  | int8| int64         |   int64       |   int64       |   int64       |   int64       | 16 B  |
 *  +--------+-----+---------------+---------------+---------------+---------------+---------------+-------+
 * </pre>
 *
 * <ul>
 *   <li>{@code magic}: {@code 'CKHB'} (0x434B4842).</li>
 *   <li>{@code ver}: {@link #VERSION}; any other value is rejected.</li>
 *   <li>{@code sessionToken}: agreed out of band by both sides; keeps two replication pairs (or a stale
 *       process of an earlier session) from keeping each other alive. It is not authentication: anyone on
 *       the path can read and replay it.</li>
 *   <li>{@code tag}: HMAC-SHA256 of bytes 0..44 under the sender's direction key ({@link HeartbeatKeys}),
 *       truncated to 16 bytes; all zero when the session has no keys (plain TCP on loopback). With keys, a
 *       datagram whose tag does not verify, or whose sequence is not above the last one accepted (a replay),
 *       is rejected.</li>
 *   <li>{@code sequence}: 1 for the first heartbeat a channel sends, then one more per heartbeat.</li>
 *   <li>{@code sentNanos}: the sender's monotonic clock when sent. Only the sender can interpret it.</li>
 *   <li>{@code echoNanos}: the {@code sentNanos} of the last heartbeat received from the peer, 0 if none
 *       (a {@code sentNanos} of exactly 0 reads as "none" and costs one round-trip sample).</li>
 *   <li>{@code echoDelayNanos}: how long the sender held that echo, from receiving it to sending this
 *       datagram, on the sender's clock; 0 when there is no echo. Without it the round trip would include
 *       up to one heartbeat interval of the peer's timer phase, hiding the network (0.1 ms on a LAN) under
 *       up to 100 ms of noise.</li>
 * </ul>
 * A datagram of any other length is rejected: the socket reads at most {@code LENGTH + 1} bytes, so a longer
 * one arrives truncated to {@code LENGTH + 1} and is still recognised as oversized.
 */
record HeartbeatDatagram(long sessionToken, long sequence, long sentNanos, long echoNanos, long echoDelayNanos) {
    static final int MAGIC = 0x434B4842; // "CKHB"
    static final byte VERSION = 2; // 2: the tag

    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int SESSION_TOKEN_OFFSET = 5;
    static final int SEQUENCE_OFFSET = 13;
    static final int SENT_NANOS_OFFSET = 21;
    static final int ECHO_NANOS_OFFSET = 29;
    static final int ECHO_DELAY_NANOS_OFFSET = 37;
    static final int TAG_OFFSET = 45;
    static final int LENGTH = TAG_OFFSET + HeartbeatKeys.TAG_BYTES;

    /**
     * Writes this datagram at the writer index of {@code out}, which must have room for {@link #LENGTH},
     * tagged under {@code keys} (null: an all-zero tag).
     */
    void encodeInto(ByteBuf out, HeartbeatKeys keys) {
        int base = out.writerIndex();
        out.ensureWritable(LENGTH);
        out.setInt(base + MAGIC_OFFSET, MAGIC);
        out.setByte(base + VERSION_OFFSET, VERSION);
        out.setLong(base + SESSION_TOKEN_OFFSET, sessionToken);
        out.setLong(base + SEQUENCE_OFFSET, sequence);
        out.setLong(base + SENT_NANOS_OFFSET, sentNanos);
        out.setLong(base + ECHO_NANOS_OFFSET, echoNanos);
        out.setLong(base + ECHO_DELAY_NANOS_OFFSET, echoDelayNanos);
        byte[] tag = new byte[HeartbeatKeys.TAG_BYTES];
        if (keys != null) {
            byte[] signed = new byte[TAG_OFFSET];
            out.getBytes(base, signed);
            tag = keys.tagToSend(signed, TAG_OFFSET);
        }
        out.setBytes(base + TAG_OFFSET, tag);
        out.writerIndex(base + LENGTH);
    }

    /** Whether the readable bytes of {@code in} (a decodable datagram) carry a tag {@code keys} verifies. */
    static boolean verify(ByteBuf in, HeartbeatKeys keys) {
        byte[] signed = new byte[TAG_OFFSET];
        byte[] tag = new byte[HeartbeatKeys.TAG_BYTES];
        in.getBytes(in.readerIndex(), signed);
        in.getBytes(in.readerIndex() + TAG_OFFSET, tag);
        return keys.verifyReceived(signed, TAG_OFFSET, tag);
    }

    /**
     * Decodes the readable bytes of {@code in} without moving its indexes.
     *
     * @return the datagram, or null when the length, magic or version is wrong
     */
    static HeartbeatDatagram decode(ByteBuf in) {
        if (in.readableBytes() != LENGTH) {
            return null;
        }
        int base = in.readerIndex();
        if (in.getInt(base + MAGIC_OFFSET) != MAGIC || in.getByte(base + VERSION_OFFSET) != VERSION) {
            return null;
        }
        return new HeartbeatDatagram(
                in.getLong(base + SESSION_TOKEN_OFFSET),
                in.getLong(base + SEQUENCE_OFFSET),
                in.getLong(base + SENT_NANOS_OFFSET),
                in.getLong(base + ECHO_NANOS_OFFSET),
                in.getLong(base + ECHO_DELAY_NANOS_OFFSET));
    }
}
