package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * A guest disk write of checkpoint {@code epoch}, mirrored to the backup, which applies it to its disk
 * replica only when that checkpoint commits.
 *
 * @param kind        what the guest did
 * @param offsetBytes where on the disk
 * @param lengthBytes how many bytes it covers; for {@link Kind#WRITE} also the size of {@code data}
 * @param data        the bytes written (empty for TRIM and ZEROES); owned by whoever holds this frame
 */
public record DiskWrite(long epoch, Kind kind, long offsetBytes, long lengthBytes, ByteBuf data)
        implements Frame, ReferenceCounted {

    /** The guest's disk operations that change content. The wire code is {@link #code()}. */
    public enum Kind {
        WRITE(1), TRIM(2), ZEROES(3);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        /** The kind of a wire code, or null when unknown. */
        public static Kind ofCode(int code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            return null;
        }
    }

    @Override public int refCnt() { return data.refCnt(); }
    @Override public DiskWrite retain() { data.retain(); return this; }
    @Override public DiskWrite retain(int increment) { data.retain(increment); return this; }
    @Override public DiskWrite touch() { data.touch(); return this; }
    @Override public DiskWrite touch(Object hint) { data.touch(hint); return this; }
    @Override public boolean release() { return data.release(); }
    @Override public boolean release(int decrement) { return data.release(decrement); }
}
