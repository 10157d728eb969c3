package io.checkpointd.replication.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;

import static io.checkpointd.replication.wire.FrameCodec.*;
import static io.checkpointd.replication.wire.WireFrames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Round trips, framing of split and merged input, the documented layout, and buffer ownership. */
class FrameCodecTest {

    private final WireFrames wire = new WireFrames();

    @AfterEach
    void everyBufferReleased() {
        wire.assertAllReleased();
    }

    @Test
    void everyFrameTypeRoundTripsThroughEncoderAndDecoder() {
        EmbeddedChannel encoder = new EmbeddedChannel(new FrameEncoder());
        EmbeddedChannel decoder = decoderChannel();
        for (Frame frame : everyType()) {
            assertThat(encoder.writeOutbound(frame)).isTrue();
            ByteBuf encoded = encoder.readOutbound();
            assertThat(encoded.readableBytes()).isEqualTo(LENGTH_BYTES + encoded.getInt(LENGTH_OFFSET));
            decoder.writeInbound(wire.track(encoded));
        }
        List<Frame> decoded = wire.readFrames(decoder);

        List<Frame> expected = everyType();
        assertSameFrames(decoded, expected);
        releaseAll(decoded);
        releaseAll(expected);
        assertThat(encoder.finish()).isFalse();
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void inputFedOneByteAtATimeDecodesEveryFrame() {
        byte[] stream = encode(everyType().toArray(Frame[]::new));
        EmbeddedChannel decoder = decoderChannel();
        List<Frame> decoded = new ArrayList<>();
        for (byte b : stream) {
            decoder.writeInbound(wire.wire(new byte[] {b}));
            decoded.addAll(wire.readFrames(decoder));
        }

        List<Frame> expected = everyType();
        assertSameFrames(decoded, expected);
        releaseAll(decoded);
        releaseAll(expected);
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void severalFramesInOneBufferAllDecode() {
        byte[] stream = encode(everyType().toArray(Frame[]::new));
        EmbeddedChannel decoder = decoderChannel();
        decoder.writeInbound(wire.wire(stream));
        List<Frame> decoded = wire.readFrames(decoder);

        List<Frame> expected = everyType();
        assertSameFrames(decoded, expected);
        releaseAll(decoded);
        releaseAll(expected);
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void inputSplitAtRandomPointsDecodesEveryFrame() {
        byte[] stream = encode(everyType().toArray(Frame[]::new));
        Random random = new Random(20_250_101);
        for (int round = 0; round < 50; round++) {
            EmbeddedChannel decoder = decoderChannel();
            List<Frame> decoded = new ArrayList<>();
            for (int from = 0; from < stream.length; ) {
                int to = Math.min(stream.length, from + 1 + random.nextInt(64));
                decoder.writeInbound(wire.wire(Arrays.copyOfRange(stream, from, to)));
                decoded.addAll(wire.readFrames(decoder));
                from = to;
            }
            List<Frame> expected = everyType();
            assertSameFrames(decoded, expected);
            releaseAll(decoded);
            releaseAll(expected);
            assertThat(decoder.finish()).isFalse();
        }
    }

    @Test
    void headerAndPagesLayoutMatchTheJavadoc() {
        byte[] ack = encode(new Ack(0x0102030405060708L));
        ByteBuffer frame = ByteBuffer.wrap(ack);
        assertThat(ack).hasSize(HEADER_BYTES);
        assertThat(frame.getInt(LENGTH_OFFSET)).isEqualTo(16);
        assertThat(frame.get(TYPE_OFFSET)).isEqualTo((byte) TYPE_ACK);
        assertThat(Arrays.copyOfRange(ack, RESERVED_OFFSET, RESERVED_OFFSET + RESERVED_BYTES)).containsOnly(0);
        assertThat(frame.getLong(EPOCH_OFFSET)).isEqualTo(0x0102030405060708L);
        CRC32C crc = new CRC32C();
        crc.update(ack, 4, 12);
        assertThat(frame.getInt(CRC_OFFSET)).isEqualTo((int) crc.getValue());

        byte[] pages = encode(new Pages(12, new long[] {3, 9}, PageEncoding.LZ4, data(10, 0)));
        frame = ByteBuffer.wrap(pages);
        assertThat(frame.getInt(LENGTH_OFFSET)).isEqualTo(16 + 4 + 1 + 2 * 8 + 10);
        assertThat(frame.getInt(HEADER_BYTES + PAGES_PAGE_COUNT_OFFSET)).isEqualTo(2);
        assertThat(frame.get(HEADER_BYTES + PAGES_ENCODING_OFFSET)).isEqualTo((byte) PageEncoding.LZ4.code());
        assertThat(frame.getLong(HEADER_BYTES + PAGES_PAGE_NUMBERS_OFFSET)).isEqualTo(3);
        assertThat(frame.getLong(HEADER_BYTES + PAGES_PAGE_NUMBERS_OFFSET + 8)).isEqualTo(9);
        ByteBuf expectedData = data(10, 0);
        assertThat(Arrays.copyOfRange(pages, pages.length - 10, pages.length))
                .isEqualTo(ByteBufUtil.getBytes(expectedData));
        expectedData.release();
        crc.reset();
        crc.update(pages, 4, 12);
        crc.update(pages, HEADER_BYTES, pages.length - HEADER_BYTES);
        assertThat(frame.getInt(CRC_OFFSET)).isEqualTo((int) crc.getValue());
    }

    @Test
    void encoderSendsPageDataWithoutCopyingIt() {
        byte[] pageBytes = new byte[4096];
        Pages pages = new Pages(5, new long[] {1}, PageEncoding.RAW, wire.track(Unpooled.wrappedBuffer(pageBytes)));
        EmbeddedChannel encoder = new EmbeddedChannel(new FrameEncoder());
        encoder.writeOutbound(pages);
        ByteBuf encoded = encoder.readOutbound();

        assertThat(encoded).isInstanceOf(CompositeByteBuf.class);
        List<ByteBuf> components = new ArrayList<>();
        ((CompositeByteBuf) encoded).forEach(components::add);
        assertThat(components).anySatisfy(c -> assertThat(c.hasArray() && c.array() == pageBytes).isTrue());
        encoded.release();
        assertThat(encoder.finish()).isFalse();
    }

    @Test
    void decodedPageDataIsASliceOfTheReceivedBytes() {
        byte[] stream = encode(new Pages(5, new long[] {1}, PageEncoding.RAW, data(4096, 1)));
        EmbeddedChannel decoder = decoderChannel();
        decoder.writeInbound(wire.wire(stream));
        Pages pages = (Pages) wire.readFrames(decoder).getFirst();

        assertThat(pages.data().hasArray()).isTrue();
        assertThat(pages.data().array()).isSameAs(stream);
        pages.release();
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void encoderReleasesTheFrameExactlyOnce() {
        ByteBuf data = wire.track(data(64, 0));
        data.retain(); // the test's own reference, to watch the count
        EmbeddedChannel encoder = new EmbeddedChannel(new FrameEncoder());
        encoder.writeOutbound(new DeviceState(7, data));
        ByteBuf encoded = encoder.readOutbound();

        assertThat(data.refCnt()).as("frame's reference released, encoded buffer holds one").isEqualTo(2);
        encoded.release();
        assertThat(data.refCnt()).isEqualTo(1);
        data.release();
        assertThat(encoder.finish()).isFalse();
    }

    @Test
    void encoderRefusesFramesTheDecoderWouldRejectAndReleasesThem() {
        ByteBuf data = wire.track(data(16, 0));
        assertEncodeFails(new Pages(3, new long[] {4, -1}, PageEncoding.RAW, data),
                "PAGES frame (epoch 3): pageNumbers[1] -1 is negative");
        assertThat(data.refCnt()).isZero();

        assertEncodeFails(new Ack(-1), "ACK frame (epoch -1): epoch is negative");
        assertEncodeFails(new Hello("x".repeat(MAX_STRING_BYTES + 1), new GuestSpec("test", 1 << 20, 4096, 0, "")),
                "HELLO frame (epoch 0): domainName is 1025 bytes of UTF-8, over the limit of 1024");
        assertEncodeFails(new Hello("pbx", new GuestSpec("sim", 1 << 20, 4096, -1, "")),
                "HELLO frame (epoch 0): diskBytes -1 is negative");
        assertEncodeFails(new Hello("pbx", new GuestSpec("x".repeat(MAX_STRING_BYTES + 1), 1 << 20, 4096, 0, "")),
                "HELLO frame (epoch 0): driver is 1025 bytes of UTF-8, over the limit of 1024");
        assertEncodeFails(new CheckpointEnd(4, -2, 0, 0), "CKPT_END frame (epoch 4): pageCount -2 is negative");
        assertEncodeFails(new Heartbeat(-1, 0, 0), "HEARTBEAT frame (epoch 0): sequence -1 is negative");
    }

    private static void assertEncodeFails(Frame frame, String message) {
        EmbeddedChannel encoder = new EmbeddedChannel(new FrameEncoder());
        assertThatThrownBy(() -> encoder.writeOutbound(frame))
                .isInstanceOf(EncoderException.class)
                .rootCause().isInstanceOf(IllegalArgumentException.class).hasMessage(message);
        assertThat(encoder.finish()).isFalse();
    }

    /**
     * A version 2 primary's HELLO (ramBytes, pageSize, heartbeatPort, token, domainName, description; no
     * driver or disk size) is read as far as its version, so the backup can refuse it by name.
     */
    @Test
    void aHelloOfTheOldVersionDecodesToItsVersionAlone() {
        byte[] name = "pbx".getBytes(StandardCharsets.UTF_8);
        byte[] version2 = rawFrame(TYPE_HELLO, 0,
                payload(2, 1L << 30, 4096, 7411, 99L, (short) name.length, name, 2, "{}".getBytes(StandardCharsets.UTF_8)));
        EmbeddedChannel decoder = decoderChannel();
        decoder.writeInbound(wire.wire(version2));
        assertThat(wire.readFrames(decoder)).containsExactly(new Hello(2, "", 0, 0, null));
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void stringsOfExactlyTheLimitRoundTrip() {
        String name = "é".repeat(MAX_STRING_BYTES / 2); // two UTF-8 bytes each
        byte[] stream = encode(new Hello(name, new GuestSpec("test", 1 << 20, 4096, 0, "")),
                new HelloAck(PROTOCOL_VERSION, 3, name));
        EmbeddedChannel decoder = decoderChannel();
        decoder.writeInbound(wire.wire(stream));

        assertThat(wire.readFrames(decoder)).containsExactly(
                new Hello(name, new GuestSpec("test", 1 << 20, 4096, 0, "")), new HelloAck(PROTOCOL_VERSION, 3, name));
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void aFrameOfExactlyMaxFrameBytesDecodes() {
        int maxFrameBytes = 256;
        byte[] atLimit = encode(new DeviceState(1, data(maxFrameBytes - HEADER_BYTES, 0)));
        assertThat(atLimit).hasSize(maxFrameBytes);
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(maxFrameBytes, 1));
        decoder.writeInbound(wire.wire(atLimit));
        List<Frame> decoded = wire.readFrames(decoder);

        assertThat(decoded).hasSize(1);
        releaseAll(decoded);
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void pageCountAtTheLimitDecodes() {
        long[] pageNumbers = new long[MAX_PAGES_PER_FRAME];
        Arrays.setAll(pageNumbers, i -> i * 2L);
        byte[] stream = encode(new Pages(1, pageNumbers, PageEncoding.RAW, data(8, 0)));
        EmbeddedChannel decoder = decoderChannel();
        decoder.writeInbound(wire.wire(stream));
        List<Frame> decoded = wire.readFrames(decoder);

        assertThat(((Pages) decoded.getFirst()).pageNumbers()).containsExactly(pageNumbers);
        releaseAll(decoded);
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void decoderRefusesLimitsThatCannotWork() {
        assertThatThrownBy(() -> new FrameDecoder(HEADER_BYTES - 1, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxFrameBytes 19");
        assertThatThrownBy(() -> new FrameDecoder(MAX_FRAME_BYTES, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxPagesPerFrame 0");
    }
}
