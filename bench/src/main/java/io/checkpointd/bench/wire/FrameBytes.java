package io.checkpointd.bench.wire;

import io.checkpointd.replication.wire.Frame;
import io.checkpointd.replication.wire.FrameEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

/**
 * The daemon's own frame encoding, reachable from benchmarks without a socket: the real {@link FrameEncoder}
 * in a channel of its own, as in the daemon's pipelines. One instance per thread.
 */
public final class FrameBytes implements AutoCloseable {
    private final EmbeddedChannel channel = new EmbeddedChannel(new FrameEncoder());

    /**
     * The bytes {@link FrameEncoder} would write for {@code frame}. The result holds its own reference to
     * the frame's data; the caller still owns and releases {@code frame}, and releases the result.
     */
    public ByteBuf encode(Frame frame) {
        channel.writeOutbound(ReferenceCountUtil.retain(frame)); // the encoder releases what it is given
        return channel.readOutbound();
    }

    @Override
    public void close() {
        channel.finishAndReleaseAll();
    }
}
