package io.checkpointd.replication.wire;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static io.checkpointd.replication.wire.FrameCodec.*;
import static io.checkpointd.replication.wire.WireFrames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

/**
 * Malformed input: every rejection is a {@link CorruptFrameException} naming the frame, field and value;
 * nothing malformed is ever emitted as a frame, and nothing leaks.
 *
 * <p>Chosen behaviour after an error: the decoder discards what it buffered and every later byte, for
 * good (its {@code CORRUPT} state). Later input is never decoded, even valid frames, because the decoder
 * cannot know where in the peer's stream that input starts.
 */
class FrameCodecCorruptionTest {

    private final WireFrames wire = new WireFrames();

    @AfterEach
    void everyBufferReleased() {
        wire.assertAllReleased();
    }

    static Stream<Arguments> everyFrameType() {
        List<Frame> samples = everyType();
        List<Arguments> cases = IntStream.range(0, samples.size())
                .<Arguments>mapToObj(i -> argumentSet(i + ": " + samples.get(i).getClass().getSimpleName(), i))
                .toList();
        releaseAll(samples);
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("everyFrameType")
    void everySingleByteFlipIsRejectedOrWaitsButNeverDecodes(int sample) {
        byte[] encoded = encode(sample(sample));
        for (int position = 0; position < encoded.length; position++) {
            for (int mask : new int[] {0x01, 0x80, 0xff}) {
                byte[] corrupted = encoded.clone();
                corrupted[position] ^= (byte) mask;
                EmbeddedChannel decoder = decoderChannel();
                boolean rejected = false;
                try {
                    decoder.writeInbound(wire.wire(corrupted));
                } catch (CorruptFrameException expected) {
                    rejected = true;
                }
                if (!rejected) {
                    assertThat(position)
                            .as("flip 0x%02x at %d was neither rejected nor in the length field", mask, position)
                            .isLessThan(LENGTH_BYTES);
                }
                assertThat(wire.readFrames(decoder)).as("flip 0x%02x at %d", mask, position).isEmpty();
                assertThat(decoder.finish()).isFalse();
            }
        }
    }

    @Test
    void oversizedLengthIsRejectedFromTheLengthFieldAlone() {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(1024, 16));
        assertThatThrownBy(() -> decoder.writeInbound(wire.wire(payload(1021))))
                .isInstanceOf(CorruptFrameException.class)
                .hasMessage("frame length 1021 exceeds the limit of 1020 (maxFrameBytes 1024 less the length field)");
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void lengthAboveTwoGigabytesIsReadUnsignedAndRejected() {
        EmbeddedChannel decoder = decoderChannel();
        assertThatThrownBy(() -> decoder.writeInbound(wire.wire(payload(-1))))
                .isInstanceOf(CorruptFrameException.class)
                .hasMessageStartingWith("frame length 4294967295 exceeds the limit of");
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void lengthAtTheLimitWaitsForTheRest() {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(1024, 16));
        assertThat(decoder.writeInbound(wire.wire(payload(1020)))).isFalse();
        assertThat(decoder.finish()).isFalse();
    }

    @ParameterizedTest
    @MethodSource("tooShortLengths")
    void lengthBelowTheHeaderIsRejected(int length) {
        EmbeddedChannel decoder = decoderChannel();
        assertThatThrownBy(() -> decoder.writeInbound(wire.wire(payload(length))))
                .isInstanceOf(CorruptFrameException.class)
                .hasMessage("frame length " + length + " is below the minimum of 16");
        assertThat(decoder.finish()).isFalse();
    }

    static IntStream tooShortLengths() {
        return IntStream.of(0, 1, 15);
    }

    /** Frames with a correct CRC and one bad field each, with the message that must name it. */
    static Stream<Arguments> malformedFrames() {
        byte[] name = "vm-1".getBytes(StandardCharsets.UTF_8);
        byte[] sim = "sim".getBytes(StandardCharsets.UTF_8);
        return Stream.of(
                argumentSet("unknown type", rawFrame(13, 5, new byte[0]),
                        "frame type 13 (epoch 5) is unknown"),
                argumentSet("STANDBY with an epoch", rawFrame(TYPE_STANDBY, 5, new byte[] {1}),
                        "STANDBY frame (epoch 5): epoch must be 0"),
                argumentSet("STANDBY ready not a boolean", rawFrame(TYPE_STANDBY, 0, new byte[] {2}),
                        "STANDBY frame (epoch 0): ready 2 is not a boolean (0 or 1)"),
                argumentSet("STANDBY without its byte", rawFrame(TYPE_STANDBY, 0, new byte[0]),
                        "STANDBY frame (epoch 0): payload length 0 differs from the fixed size 1"),
                argumentSet("HANDOVER with an epoch", rawFrame(TYPE_HANDOVER, 5, new byte[0]),
                        "HANDOVER frame (epoch 5): epoch must be 0"),
                argumentSet("DISK_WRITE data not matching its length",
                        rawFrame(TYPE_DISK_WRITE, 5, payload((byte) 1, 0L, 10L, new byte[3])),
                        "DISK_WRITE frame (epoch 5): WRITE of 10 bytes carries 3 bytes of data"),
                argumentSet("DISK_WRITE unknown kind",
                        rawFrame(TYPE_DISK_WRITE, 5, payload((byte) 7, 0L, 0L)),
                        "DISK_WRITE frame (epoch 5): kind 7 is unknown"),
                argumentSet("type 0", rawFrame(0, 5, new byte[0]),
                        "frame type 0 (epoch 5) is unknown"),
                argumentSet("reserved bytes set", rawFrame(TYPE_ACK, 0x000100, 5, new byte[0]),
                        "ACK frame (epoch 5): reserved bytes 0x000100 are not zero"),
                argumentSet("negative epoch", rawFrame(TYPE_ACK, -5, new byte[0]),
                        "ACK frame (epoch -5): epoch is negative"),
                argumentSet("heartbeat with an epoch", rawFrame(TYPE_HEARTBEAT, 3, payload(1L, 2L, 3L)),
                        "HEARTBEAT frame (epoch 3): epoch must be 0"),
                argumentSet("trailing byte after ACK", rawFrame(TYPE_ACK, 5, new byte[1]),
                        "ACK frame (epoch 5): payload length 1 differs from the fixed size 0"),
                argumentSet("trailing byte after CKPT_END", rawFrame(TYPE_CKPT_END, 5, new byte[25]),
                        "CKPT_END frame (epoch 5): payload length 25 differs from the fixed size 24"),
                argumentSet("short HEARTBEAT", rawFrame(TYPE_HEARTBEAT, 0, new byte[23]),
                        "HEARTBEAT frame (epoch 0): payload length 23 differs from the fixed size 24"),
                argumentSet("PAGES without a header", rawFrame(TYPE_PAGES, 5, new byte[4]),
                        "PAGES frame (epoch 5): payload length 4 is below the minimum of 5"),
                argumentSet("unknown page encoding", rawFrame(TYPE_PAGES, 12, payload(1, (byte) 7, 0L)),
                        "PAGES frame (epoch 12): encoding 7 is unknown"),
                argumentSet("pageCount over the limit", rawFrame(TYPE_PAGES, 12, payload(70_000, (byte) 0)),
                        "PAGES frame (epoch 12): pageCount 70000 exceeds the limit of 256"),
                argumentSet("negative pageCount", rawFrame(TYPE_PAGES, 12, payload(-1, (byte) 0)),
                        "PAGES frame (epoch 12): pageCount -1 is negative"),
                argumentSet("pageCount not fitting the payload",
                        rawFrame(TYPE_PAGES, 12, payload(3, (byte) 0, 1L, 2L)),
                        "PAGES frame (epoch 12): pageCount 3 needs 24 bytes of page numbers but only 16 remain"),
                argumentSet("negative page number", rawFrame(TYPE_PAGES, 12, payload(2, (byte) 0, 1L, -9L)),
                        "PAGES frame (epoch 12): pageNumbers[1] -9 is negative"),
                argumentSet("boolean 2", rawFrame(TYPE_CKPT_BEGIN, 4, payload(1L, 2L, (byte) 2)),
                        "CKPT_BEGIN frame (epoch 4): full 2 is not a boolean (0 or 1)"),
                argumentSet("negative pageCount in CKPT_BEGIN",
                        rawFrame(TYPE_CKPT_BEGIN, 4, payload(-1L, 2L, (byte) 0)),
                        "CKPT_BEGIN frame (epoch 4): pageCount -1 is negative"),
                argumentSet("negative deviceStateBytes in CKPT_END",
                        rawFrame(TYPE_CKPT_END, 4, payload(1L, -2L, 3L)),
                        "CKPT_END frame (epoch 4): deviceStateBytes -2 is negative"),
                argumentSet("negative heartbeat sequence", rawFrame(TYPE_HEARTBEAT, 0, payload(-1L, 2L, 3L)),
                        "HEARTBEAT frame (epoch 0): sequence -1 is negative"),
                argumentSet("negative ramBytes",
                        rawFrame(TYPE_HELLO, 0, payload(PROTOCOL_VERSION, -1L, 4096, 0, 0L, 0L, (short) 4, name, (short) 3, sim, 0)),
                        "HELLO frame (epoch 0): ramBytes -1 is negative"),
                argumentSet("HELLO heartbeat port out of range",
                        rawFrame(TYPE_HELLO, 0, payload(PROTOCOL_VERSION, 1L << 30, 4096, 70_000, 0L, 0L, (short) 4, name, (short) 3, sim, 0)),
                        "HELLO frame (epoch 0): heartbeatPort 70000 is not a port (0..65535)"),
                argumentSet("HELLO description length negative",
                        rawFrame(TYPE_HELLO, 0, payload(PROTOCOL_VERSION, 1L << 30, 4096, 0, 0L, 0L, (short) 4, name, (short) 3, sim, -1)),
                        "HELLO frame (epoch 0): description length -1 is negative"),
                argumentSet("string length over the limit",
                        rawFrame(TYPE_HELLO_ACK, 7, payload(1, 0, (short) 2000, name)),
                        "HELLO_ACK frame (epoch 7): rejection length 2000 exceeds the limit of 1024"),
                argumentSet("string not fitting the payload",
                        rawFrame(TYPE_HELLO, 0, payload(PROTOCOL_VERSION, 1L << 30, 4096, 0, 0L, 0L, (short) 10, name, (short) 3, sim, 0)),
                        "HELLO frame (epoch 0): domainName length 10 does not leave room for the fields after it"),
                argumentSet("bytes after the string",
                        rawFrame(TYPE_HELLO, 0, payload(PROTOCOL_VERSION, 1L << 30, 4096, 0, 0L, 0L, (short) 4, name, (short) 3, sim, 0, (short) 0)),
                        "HELLO frame (epoch 0): 2 trailing bytes after description"),
                argumentSet("negative diskBytes",
                        rawFrame(TYPE_HELLO, 0, payload(PROTOCOL_VERSION, 1L << 30, 4096, 0, 0L, -5L, (short) 4, name, (short) 3, sim, 0)),
                        "HELLO frame (epoch 0): diskBytes -5 is negative"),
                argumentSet("HELLO of this version too short for its fields",
                        rawFrame(TYPE_HELLO, 0, payload(PROTOCOL_VERSION, 1L << 30)),
                        "HELLO frame (epoch 0): payload length 12 is below the minimum of 44"),
                argumentSet("string not UTF-8",
                        rawFrame(TYPE_HELLO_ACK, 7, payload(1, 0, (short) 2, new byte[] {(byte) 0xc0, (byte) 0x80})),
                        "HELLO_ACK frame (epoch 7): rejection is not valid UTF-8"));
    }

    @ParameterizedTest
    @MethodSource("malformedFrames")
    void malformedFieldIsRejectedWithItsNameAndValue(byte[] frame, String message) {
        EmbeddedChannel decoder = decoderChannel();
        assertThatThrownBy(() -> decoder.writeInbound(wire.wire(frame)))
                .isInstanceOf(CorruptFrameException.class)
                .hasMessage(message);
        assertThat(wire.readFrames(decoder)).isEmpty();
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void crcMismatchIsRejected() {
        byte[] frame = encode(new Ack(5));
        frame[CRC_OFFSET + 3] ^= 1;
        EmbeddedChannel decoder = decoderChannel();
        assertThatThrownBy(() -> decoder.writeInbound(wire.wire(frame)))
                .isInstanceOf(CorruptFrameException.class)
                .hasMessageMatching("ACK frame \\(epoch 5\\): crc32c 0x[0-9a-f]{8} does not match"
                        + " 0x[0-9a-f]{8} computed over the frame");
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void everyTruncationEmitsNothingAndLeaksNothing() {
        byte[] stream = encode(sample(5)); // PAGES, the most nested layout
        for (int kept = 1; kept < stream.length; kept++) {
            EmbeddedChannel decoder = decoderChannel();
            assertThat(decoder.writeInbound(wire.wire(Arrays.copyOf(stream, kept)))).isFalse();
            assertThat(decoder.finish()).as("truncated to %d bytes", kept).isFalse();
        }
    }

    @Test
    void afterAnErrorLaterInputIsDiscardedUnread() {
        byte[] valid = encode(new Ack(1));
        EmbeddedChannel decoder = decoderChannel();
        assertThatThrownBy(() -> decoder.writeInbound(wire.wire(rawFrame(9, 1, new byte[0]))))
                .isInstanceOf(CorruptFrameException.class);

        assertThat(decoder.writeInbound(wire.wire(valid))).isFalse();
        assertThat(decoder.writeInbound(wire.wire(rawFrame(9, 1, new byte[0])))).as("no second exception").isFalse();
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void framesBufferedBehindAnErrorAreDiscardedAndOnesBeforeItDelivered() {
        byte[] before = encode(new Ack(1));
        byte[] bad = rawFrame(TYPE_PAGES, 2, payload(1, (byte) 9, 0L));
        byte[] after = encode(new Ack(3));
        byte[] stream = new byte[before.length + bad.length + after.length];
        System.arraycopy(before, 0, stream, 0, before.length);
        System.arraycopy(bad, 0, stream, before.length, bad.length);
        System.arraycopy(after, 0, stream, before.length + bad.length, after.length);

        EmbeddedChannel decoder = decoderChannel();
        assertThatThrownBy(() -> decoder.writeInbound(wire.wire(stream)))
                .isInstanceOf(CorruptFrameException.class)
                .hasMessage("PAGES frame (epoch 2): encoding 9 is unknown");

        List<Frame> delivered = wire.readFrames(decoder);
        assertThat(delivered).containsExactly(new Ack(1));
        assertThat(decoder.finish()).isFalse();
    }
}
