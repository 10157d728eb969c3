package io.checkpointd.replication.wire;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.checkpointd.replication.wire.FrameCodec.*;
import static io.checkpointd.replication.wire.WireFrames.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mutated frames with a correct CRC, so the mutations reach the payload checks rather than stopping at
 * the CRC. Every input must either fail with {@link CorruptFrameException} (never another exception) or
 * decode to a frame that the encoder turns back into exactly the same bytes: the encoding is canonical,
 * so no two byte sequences mean the same frame and none means a frame it was not written as.
 */
class FrameCodecFuzzTest {

    private static final int ROUNDS = 5_000;

    private final WireFrames wire = new WireFrames();

    @AfterEach
    void everyBufferReleased() {
        wire.assertAllReleased();
    }

    @Test
    void mutatedFramesWithValidCrcAreRejectedOrDecodeCanonically() {
        Random random = new Random(0x5eed_c0deL);
        int sampleCount = everyTypeCount();
        int decoded = 0;
        int rejected = 0;
        for (int round = 0; round < ROUNDS; round++) {
            byte[] input = mutate(encode(sample(random.nextInt(sampleCount))), random);
            EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(4096, 8));
            try {
                decoder.writeInbound(wire.wire(input));
            } catch (CorruptFrameException expected) {
                rejected++;
            }
            List<Frame> frames = wire.readFrames(decoder);
            assertThat(frames).hasSizeLessThanOrEqualTo(1);
            if (!frames.isEmpty() && frames.getFirst() instanceof Hello h && h.guest() == null) {
                // Another version's HELLO: only its version is read (so the backup can say why it refuses).
                assertThat(h.protocolVersion()).isNotEqualTo(FrameCodec.PROTOCOL_VERSION);
                assertThat(h.domainName()).isEmpty();
            } else if (!frames.isEmpty()) {
                decoded++;
                assertThat(encode(frames.getFirst()))
                        .as("re-encoding of %s", Arrays.toString(input))
                        .isEqualTo(input);
            }
            assertThat(decoder.finish()).isFalse();
        }
        // The mix must exercise both outcomes, or the mutations are not doing their job.
        assertThat(decoded).isGreaterThan(ROUNDS / 20);
        assertThat(rejected).isGreaterThan(ROUNDS / 2);
    }

    private static int everyTypeCount() {
        List<Frame> samples = everyType();
        releaseAll(samples);
        return samples.size();
    }

    /** Changes header fields or payload bytes, resizes the payload, and recomputes length and CRC. */
    private static byte[] mutate(byte[] encoded, Random random) {
        ByteBuffer frame = ByteBuffer.wrap(encoded);
        int type = frame.get(TYPE_OFFSET) & 0xff;
        int reserved = frame.getInt(TYPE_OFFSET) & 0xffffff;
        long epoch = frame.getLong(EPOCH_OFFSET);
        byte[] payload = Arrays.copyOfRange(encoded, HEADER_BYTES, encoded.length);
        switch (random.nextInt(8)) {
            case 0 -> type = random.nextInt(10);
            case 1 -> reserved = 1 << random.nextInt(24);
            case 2 -> epoch = random.nextBoolean() ? -1 - random.nextInt(3) : random.nextInt(3);
            case 3 -> payload = Arrays.copyOf(payload, Math.max(0, payload.length - 1 - random.nextInt(9)));
            case 4 -> payload = Arrays.copyOf(payload, payload.length + 1 + random.nextInt(9));
            default -> {
                // Small values hit the boundaries (0, 1, -1, limits) more often than random bytes would.
                int changes = 1 + random.nextInt(3);
                for (int i = 0; i < changes && payload.length > 0; i++) {
                    payload[random.nextInt(payload.length)] = (byte) (random.nextBoolean()
                            ? random.nextInt(256) : random.nextInt(5) - 2);
                }
            }
        }
        return rawFrame(type, reserved, epoch, payload);
    }
}
