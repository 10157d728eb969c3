package io.checkpointd.disk.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * Encodes everything the server sends. Layouts (big-endian, offsets in bytes):
 *
 * <pre>
 * greeting:                      option reply:                 EXPORT_NAME reply:
 *   0  NBDMAGIC        u64         0  OPTION_REPLY_MAGIC u64     0  export size        u64
 *   8  IHAVEOPT        u64         8  option             u32     8  transmission flags u16
 *  16  handshake flags u16        12  reply type         u32    10  124 zero bytes, unless the
 *                                 16  data length        u32        client set NO_ZEROES
 *                                 20  data
 *
 * simple reply (transmission):   NBD_REP_INFO data:
 *   0  SIMPLE_REPLY_MAGIC u32      0  info type u16, then for INFO_EXPORT: size u64, flags u16;
 *   4  error              u32         INFO_NAME: name bytes; INFO_BLOCK_SIZE: min u32, preferred u32,
 *   8  cookie             u64         max u32
 *  16  data (READ without error only)
 * </pre>
 */
final class NbdReplies {
    static final int GREETING_BYTES = 18;
    static final int OPTION_REPLY_HEADER_BYTES = 20;
    static final int EXPORT_NAME_REPLY_BYTES = 10;
    static final int EXPORT_NAME_ZERO_PAD_BYTES = 124;
    static final int SIMPLE_REPLY_HEADER_BYTES = 16;

    /** Advertised block sizes: any byte granularity works; 4 KiB is the page the guest writes. */
    static final int MIN_BLOCK_BYTES = 1;
    static final int PREFERRED_BLOCK_BYTES = 4096;

    private NbdReplies() {
    }

    static ByteBuf greeting(ByteBufAllocator alloc) {
        return alloc.buffer(GREETING_BYTES)
                .writeLong(Nbd.NBDMAGIC)
                .writeLong(Nbd.IHAVEOPT)
                .writeShort(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
    }

    static ByteBuf optionReply(ByteBufAllocator alloc, int option, int type) {
        return optionReplyHeader(alloc, option, type, 0);
    }

    /** An error reply with a message for the client to show its user. */
    static ByteBuf optionError(ByteBufAllocator alloc, int option, int type, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, Nbd.MAX_STRING_BYTES);
        return optionReplyHeader(alloc, option, type, length).writeBytes(text, 0, length);
    }

    /** NBD_REP_SERVER for NBD_OPT_LIST: name length u32, then the name. */
    static ByteBuf listEntry(ByteBufAllocator alloc, String exportName) {
        byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
        return optionReplyHeader(alloc, Nbd.OPT_LIST, Nbd.REP_SERVER, 4 + name.length)
                .writeInt(name.length)
                .writeBytes(name);
    }

    static ByteBuf infoExport(ByteBufAllocator alloc, int option, long sizeBytes, int transmissionFlags) {
        return optionReplyHeader(alloc, option, Nbd.REP_INFO, 2 + 8 + 2)
                .writeShort(Nbd.INFO_EXPORT)
                .writeLong(sizeBytes)
                .writeShort(transmissionFlags);
    }

    static ByteBuf infoName(ByteBufAllocator alloc, int option, String exportName) {
        byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
        return optionReplyHeader(alloc, option, Nbd.REP_INFO, 2 + name.length)
                .writeShort(Nbd.INFO_NAME)
                .writeBytes(name);
    }

    static ByteBuf infoBlockSize(ByteBufAllocator alloc, int option, int maxPayloadBytes) {
        return optionReplyHeader(alloc, option, Nbd.REP_INFO, 2 + 4 + 4 + 4)
                .writeShort(Nbd.INFO_BLOCK_SIZE)
                .writeInt(MIN_BLOCK_BYTES)
                .writeInt(PREFERRED_BLOCK_BYTES)
                .writeInt(maxPayloadBytes);
    }

    static ByteBuf exportNameReply(ByteBufAllocator alloc, long sizeBytes, int transmissionFlags, boolean noZeroes) {
        int pad = noZeroes ? 0 : EXPORT_NAME_ZERO_PAD_BYTES;
        return alloc.buffer(EXPORT_NAME_REPLY_BYTES + pad)
                .writeLong(sizeBytes)
                .writeShort(transmissionFlags)
                .writeZero(pad);
    }

    /** A reply without data: any error, or success of anything but READ. */
    static ByteBuf simpleReply(ByteBufAllocator alloc, int error, long cookie) {
        return simpleReplyHeader(alloc.buffer(SIMPLE_REPLY_HEADER_BYTES), error, cookie);
    }

    /** Writes a simple reply header into {@code dst} (for READ, the data follows in the same buffer). */
    static ByteBuf simpleReplyHeader(ByteBuf dst, int error, long cookie) {
        return dst.writeInt(Nbd.SIMPLE_REPLY_MAGIC).writeInt(error).writeLong(cookie);
    }

    private static ByteBuf optionReplyHeader(ByteBufAllocator alloc, int option, int type, int dataLength) {
        return alloc.buffer(OPTION_REPLY_HEADER_BYTES + dataLength)
                .writeLong(Nbd.OPTION_REPLY_MAGIC)
                .writeInt(option)
                .writeInt(type)
                .writeInt(dataLength);
    }
}
