package io.checkpointd.disk.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * One transmission request as {@link RequestDecoder} read it. Only a WRITE carries data (a retained slice of
 * the received bytes, released by whoever receives the request); the others hold an empty buffer.
 */
final class NbdRequest extends DefaultByteBufHolder {
    private final int flags;
    private final int type;
    private final long cookie;
    private final long offset;
    private final long length;
    private final boolean payloadTooLarge;

    /**
     * @param offset          as sent: an unsigned 64-bit value, so "negative" means beyond 2^63
     * @param length          as sent: an unsigned 32-bit value
     * @param payloadTooLarge a WRITE whose data exceeded the payload limit: the data was skipped, not read
     */
    NbdRequest(int flags, int type, long cookie, long offset, long length, ByteBuf data, boolean payloadTooLarge) {
        super(data == null ? Unpooled.EMPTY_BUFFER : data);
        this.flags = flags;
        this.type = type;
        this.cookie = cookie;
        this.offset = offset;
        this.length = length;
        this.payloadTooLarge = payloadTooLarge;
    }

    int flags() {
        return flags;
    }

    int type() {
        return type;
    }

    long cookie() {
        return cookie;
    }

    long offset() {
        return offset;
    }

    long length() {
        return length;
    }

    boolean payloadTooLarge() {
        return payloadTooLarge;
    }

    ByteBuf data() {
        return content();
    }

    @Override
    public String toString() {
        return "NbdRequest[type=" + type + ", flags=0x" + Integer.toHexString(flags) + ", offset="
                + Long.toUnsignedString(offset) + ", length=" + length + "]";
    }
}
