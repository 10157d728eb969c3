package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * A chunk of the device state of checkpoint {@code epoch}; chunks arrive in order and concatenate to
 * {@link CheckpointBegin#deviceStateBytes()} bytes. {@code data} is owned by whoever holds this frame.
 */
public record DeviceState(long epoch, ByteBuf data) implements Frame, ReferenceCounted {
    @Override public int refCnt() { return data.refCnt(); }
    @Override public DeviceState retain() { data.retain(); return this; }
    @Override public DeviceState retain(int increment) { data.retain(increment); return this; }
    @Override public DeviceState touch() { data.touch(); return this; }
    @Override public DeviceState touch(Object hint) { data.touch(hint); return this; }
    @Override public boolean release() { return data.release(); }
    @Override public boolean release(int decrement) { return data.release(decrement); }
}
