package io.checkpointd.bench.backup;

import io.checkpointd.backup.BackupDaemon;
import io.checkpointd.backup.IncomingCheckpoint;
import io.checkpointd.backup.ProtocolViolation;
import io.checkpointd.backup.ReplicaStore;
import io.checkpointd.replication.wire.CheckpointBegin;
import io.checkpointd.replication.wire.CheckpointEnd;
import io.checkpointd.replication.wire.DeviceState;
import io.checkpointd.replication.wire.Frame;
import io.checkpointd.replication.wire.FrameDecoder;
import io.checkpointd.replication.wire.Pages;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The backup's receive path from bytes to a verified checkpoint, without the socket, the session state
 * machine or the commit: the real {@link FrameDecoder} (frame CRC32C, bounds) in a channel, then the real
 * {@link IncomingCheckpoint} (LZ4 safe decompression into the store's staging file, CRC32C digest, END
 * verification), handled frame by frame as the backup's session does.
 */
public final class CheckpointReceiver implements AutoCloseable {
    private final ReplicaStore store;
    private final EmbeddedChannel channel;
    private IncomingCheckpoint incoming;

    /** A receiver whose store (replica and staging files of {@code ramBytes} each) lives under {@code dir}. */
    public CheckpointReceiver(Path dir, long ramBytes, int pageSizeBytes, int maxFrameBytes) throws IOException {
        store = ReplicaStore.open(dir, "bench", ramBytes, pageSizeBytes);
        channel = new EmbeddedChannel(new FrameDecoder(maxFrameBytes, BackupDaemon.MAX_PAGES_PER_FRAME));
    }

    /**
     * Receives the bytes of one frame as they came off the socket (ownership passes here).
     *
     * @return true when the frame was a CKPT_END that verified
     * @throws IllegalStateException when the data breaks the protocol: a bug in the benchmark's input
     */
    public boolean receive(ByteBuf wireFrame) {
        channel.writeInbound(wireFrame);
        Frame frame = channel.readInbound();
        if (frame == null) {
            throw new IllegalStateException("a whole frame was written but none was decoded");
        }
        try {
            return handle(frame);
        } catch (ProtocolViolation e) {
            throw new IllegalStateException(e.getMessage(), e);
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    private boolean handle(Frame frame) throws ProtocolViolation {
        switch (frame) {
            case CheckpointBegin begin ->
                    incoming = new IncomingCheckpoint(begin, store, BackupDaemon.MAX_DEVICE_STATE_BYTES);
            case Pages pages -> incoming.onPages(pages);
            case DeviceState chunk -> incoming.onDeviceState(chunk);
            case CheckpointEnd end -> {
                incoming.verify(end);
                incoming = null;
                return true;
            }
            default -> throw new IllegalStateException("unexpected " + frame.getClass().getSimpleName() + " frame");
        }
        return false;
    }

    @Override
    public void close() {
        channel.finishAndReleaseAll();
        store.close();
    }
}
