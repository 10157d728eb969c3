package io.checkpointd.netbuffer.bridge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The body of a tap's reading thread: blocks in {@link TapDevice#read}, and hands each frame, already
 * framed for QEMU ({@link QemuFraming#encode}), to {@code toGuest}, which takes ownership. Ends when the
 * tap is closed, or fails.
 */
final class TapReader implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(TapReader.class);

    private final TapDevice tap;
    private final ByteBufAllocator alloc;
    private final Consumer<ByteBuf> toGuest;

    TapReader(TapDevice tap, ByteBufAllocator alloc, Consumer<ByteBuf> toGuest) {
        this.tap = tap;
        this.alloc = alloc;
        this.toGuest = toGuest;
    }

    @Override
    public void run() {
        ByteBuffer frame = ByteBuffer.allocateDirect(TapDevice.MAX_FRAME_BYTES);
        try {
            while (true) {
                frame.clear();
                if (tap.read(frame) < 0) {
                    return;
                }
                toGuest.accept(QemuFraming.encode(alloc, frame.flip()));
            }
        } catch (IOException e) {
            LOG.error("{}: reading failed, the guest receives nothing more: {}", tap, e.getMessage());
        }
    }
}
