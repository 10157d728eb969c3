package io.checkpointd.netbuffer.bridge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;

/**
 * The framing of QEMU's socket/stream netdev ({@code -netdev socket,connect=HOST:PORT}, libvirt
 * {@code <interface type='client'>}): a TCP byte stream of Ethernet frames, each preceded by its length.
 *
 * <pre>
 *  offset  bytes   field
 *   0      4       frame length N, unsigned big-endian, 1 to {@link #MAX_FRAME_BYTES}
 *   4      N       the Ethernet frame, from destination MAC to payload (no FCS, no virtio-net header)
 *   4+N            next length
 * </pre>
 *
 * There is no delimiter to resynchronise on: after a bad length the rest of the stream is meaningless.
 */
final class QemuFraming {
    static final int LENGTH_FIELD_BYTES = 4;
    /** Bigger than any frame a tap carries is a broken stream, not a frame; see {@link TapDevice#MAX_FRAME_BYTES}. */
    static final int MAX_FRAME_BYTES = TapDevice.MAX_FRAME_BYTES;

    private QemuFraming() {
    }

    /** {@code frame}'s remaining bytes behind their length, in a new direct buffer; {@code frame} is consumed. */
    static ByteBuf encode(ByteBufAllocator alloc, ByteBuffer frame) {
        int frameBytes = frame.remaining();
        ByteBuf framed = alloc.directBuffer(LENGTH_FIELD_BYTES + frameBytes);
        framed.writeInt(frameBytes).writeBytes(frame);
        return framed;
    }
}
