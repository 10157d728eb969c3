package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** The daemon's own frame encoding, reachable from benchmarks without a channel pipeline. */
public final class FrameBytes {
    private FrameBytes() {
    }

    /**
     * The bytes {@link FrameEncoder} would write for {@code frame}. The result holds its own reference to
     * the frame's data; the caller still owns and releases {@code frame}, and releases the result.
     */
    public static ByteBuf encode(Frame frame) {
        return FrameEncoder.encode(ByteBufAllocator.DEFAULT, frame);
    }
}
