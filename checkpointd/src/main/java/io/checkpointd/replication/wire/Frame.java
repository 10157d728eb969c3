package io.checkpointd.replication.wire;

/**
 * One message of the replication protocol. The encoding is documented in {@link FrameCodec}.
 *
 * <p>Frames holding a {@link io.netty.buffer.ByteBuf} are reference-counted: whoever receives one
 * releases it (they implement {@link io.netty.util.ReferenceCounted} through their buffer).
 */
public sealed interface Frame
        permits Hello, HelloAck, CheckpointBegin, Pages, DeviceState, CheckpointEnd, Ack, Heartbeat, Goodbye, DiskWrite,
        Handover, Standby {

    /** The checkpoint this frame belongs to; 0 where a frame belongs to none. */
    long epoch();
}
