package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * A batch of guest pages of checkpoint {@code epoch}.
 *
 * @param pageNumbers page numbers, in the order their contents appear in {@code data} once decoded
 * @param encoding    how {@code data} is encoded
 * @param data        the pages' contents, {@code pageNumbers.length * pageSize} bytes once decoded.
 *                    Owned by whoever holds this frame; release it.
 */
public record Pages(long epoch, long[] pageNumbers, PageEncoding encoding, ByteBuf data)
        implements Frame, ReferenceCounted {

    @Override public int refCnt() { return data.refCnt(); }
    @Override public Pages retain() { data.retain(); return this; }
    @Override public Pages retain(int increment) { data.retain(increment); return this; }
    @Override public Pages touch() { data.touch(); return this; }
    @Override public Pages touch(Object hint) { data.touch(hint); return this; }
    @Override public boolean release() { return data.release(); }
    @Override public boolean release(int decrement) { return data.release(decrement); }
}
