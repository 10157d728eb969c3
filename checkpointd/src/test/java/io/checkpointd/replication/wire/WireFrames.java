package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import static io.checkpointd.replication.wire.FrameCodec.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sample frames, raw frame builders and channel helpers for the codec tests.
 *
 * <p>Buffers handed to a channel are tracked so a test can assert that every one of them, and every
 * decoded frame's data, was released: a deterministic leak check that does not depend on the GC running
 * the paranoid leak detector.
 */
final class WireFrames {

    static final int MAX_FRAME_BYTES = 64 * 1024;
    static final int MAX_PAGES_PER_FRAME = 256;

    private final List<ByteBuf> tracked = new ArrayList<>();

    /**
     * One frame of every type, with the edge cases of the variable ones. Each call builds new frames: a
     * frame with data is consumed by whoever writes it, so compare against a second call's frames.
     */
    static List<Frame> everyType() {
        return List.of(
                new Hello("vm-ßé-1", new GuestSpec("test", 4L << 30, 4096, 0, "")),
                new HelloAck(PROTOCOL_VERSION, 41, ""),
                new Hello(PROTOCOL_VERSION, "pbx", 7411, 0x5eed_cafe_f00dL, new GuestSpec("libvirt", 1L << 30, 4096,
                        8L << 30, "<domain type='kvm'><name>pbx</name><memory unit='MiB'>1024</memory></domain>")),
                new Hello(PROTOCOL_VERSION - 1, "", 0, 0, null),
                new HelloAck(PROTOCOL_VERSION, 0, "", 65_535),
                new Goodbye(),
                new Handover(),
                new Standby(true),
                new Standby(false),
                new DiskWrite(9, DiskWrite.Kind.TRIM, 1L << 20, 65536, Unpooled.EMPTY_BUFFER),
                new DiskWrite(9, DiskWrite.Kind.WRITE, 4096, 5, Unpooled.wrappedBuffer(new byte[] {1, 2, 3, 4, 5})),
                new HelloAck(PROTOCOL_VERSION, 0, "replica holds 2 GiB, HELLO announced 4 GiB"),
                new CheckpointBegin(42, true, 3, 100),
                new CheckpointBegin(43, false, 0, 0),
                new Pages(42, new long[] {0, 7, Long.MAX_VALUE}, PageEncoding.RAW, data(3 * 32, 1)),
                new Pages(42, new long[] {5}, PageEncoding.LZ4, data(17, 2)),
                new Pages(42, new long[0], PageEncoding.RAW, Unpooled.buffer(0)),
                new DeviceState(42, data(100, 3)),
                new DeviceState(42, Unpooled.buffer(0)),
                new CheckpointEnd(42, 3, 100, 0xdeadbeefcafef00dL),
                new Ack(42),
                new Ack(0),
                new Heartbeat(9, -123_456_789L, 987_654_321L));
    }

    /** Frame {@code index} of {@link #everyType()}; the others are released. */
    static Frame sample(int index) {
        List<Frame> samples = everyType();
        for (int i = 0; i < samples.size(); i++) {
            if (i != index) {
                ReferenceCountUtil.release(samples.get(i));
            }
        }
        return samples.get(index);
    }

    /** {@code length} deterministic bytes that differ with {@code seed}. */
    static ByteBuf data(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + seed * 17);
        }
        return Unpooled.wrappedBuffer(bytes);
    }

    /** A channel holding only a decoder with the test limits. */
    static EmbeddedChannel decoderChannel() {
        return new EmbeddedChannel(new FrameDecoder(MAX_FRAME_BYTES, MAX_PAGES_PER_FRAME));
    }

    /** The bytes {@link FrameEncoder} writes for {@code frames}, concatenated; the frames are consumed. */
    static byte[] encode(Frame... frames) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameEncoder());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (Frame frame : frames) {
            assertThat(channel.writeOutbound(frame)).isTrue();
            ByteBuf encoded = channel.readOutbound();
            bytes.writeBytes(ByteBufUtil.getBytes(encoded));
            encoded.release();
        }
        assertThat(channel.finish()).isFalse();
        return bytes.toByteArray();
    }

    /** A frame with a correct CRC and whatever header fields and payload the test wants. */
    static byte[] rawFrame(int type, int reserved, long epoch, byte[] payload) {
        ByteBuffer frame = ByteBuffer.allocate(HEADER_BYTES + payload.length);
        frame.putInt(LENGTH_OFFSET, MIN_LENGTH + payload.length);
        frame.put(TYPE_OFFSET, (byte) type);
        frame.put(RESERVED_OFFSET, (byte) (reserved >>> 16));
        frame.putShort(RESERVED_OFFSET + 1, (short) reserved);
        frame.putLong(EPOCH_OFFSET, epoch);
        frame.put(HEADER_BYTES, payload);
        CRC32C crc = new CRC32C();
        crc.update(frame.array(), TYPE_OFFSET, CRC_COVERED_HEADER_BYTES);
        crc.update(payload);
        frame.putInt(CRC_OFFSET, (int) crc.getValue());
        return frame.array();
    }

    static byte[] rawFrame(int type, long epoch, byte[] payload) {
        return rawFrame(type, 0, epoch, payload);
    }

    /** Big-endian bytes of the given values: Integer as int32, Long as int64, Byte as one byte, byte[] as is. */
    static byte[] payload(Object... fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object field : fields) {
            switch (field) {
                case Byte b -> out.write(b);
                case Short s -> out.writeBytes(ByteBuffer.allocate(2).putShort(s).array());
                case Integer i -> out.writeBytes(ByteBuffer.allocate(4).putInt(i).array());
                case Long l -> out.writeBytes(ByteBuffer.allocate(8).putLong(l).array());
                case byte[] bytes -> out.writeBytes(bytes);
                default -> throw new IllegalArgumentException(field.getClass().getName());
            }
        }
        return out.toByteArray();
    }

    /** Wraps {@code bytes} in a buffer this tracker checks for release. */
    ByteBuf wire(byte[] bytes) {
        return track(Unpooled.wrappedBuffer(bytes));
    }

    ByteBuf track(ByteBuf buf) {
        tracked.add(buf);
        return buf;
    }

    /** Reads every frame the channel decoded; their data is tracked. */
    List<Frame> readFrames(EmbeddedChannel channel) {
        List<Frame> frames = new ArrayList<>();
        for (Object msg; (msg = channel.readInbound()) != null; ) {
            assertThat(msg).isInstanceOf(Frame.class);
            switch (msg) {
                case Pages p -> track(p.data());
                case DeviceState d -> track(d.data());
                default -> { }
            }
            frames.add((Frame) msg);
        }
        return frames;
    }

    static void releaseAll(List<Frame> frames) {
        frames.forEach(ReferenceCountUtil::release);
    }

    /** Every tracked buffer has been released, down to a reference count of 0. */
    void assertAllReleased() {
        for (ByteBuf buf : tracked) {
            assertThat(buf.refCnt()).as("reference count of %s", buf).isZero();
        }
    }

    /** Field equality, comparing the readable bytes of data buffers. */
    static void assertSameFrame(Frame actual, Frame expected) {
        assertThat(actual).isInstanceOf(expected.getClass());
        switch (expected) {
            case Pages e -> {
                Pages a = (Pages) actual;
                assertThat(a.epoch()).isEqualTo(e.epoch());
                assertThat(a.pageNumbers()).containsExactly(e.pageNumbers());
                assertThat(a.encoding()).isEqualTo(e.encoding());
                assertThat(ByteBufUtil.getBytes(a.data())).isEqualTo(ByteBufUtil.getBytes(e.data()));
            }
            case DeviceState e -> {
                DeviceState a = (DeviceState) actual;
                assertThat(a.epoch()).isEqualTo(e.epoch());
                assertThat(ByteBufUtil.getBytes(a.data())).isEqualTo(ByteBufUtil.getBytes(e.data()));
            }
            default -> assertThat(actual).isEqualTo(expected);
        }
    }

    static void assertSameFrames(List<Frame> actual, List<Frame> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertSameFrame(actual.get(i), expected.get(i));
        }
    }
}
