package io.checkpointd.netbuffer.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import org.junit.jupiter.api.Test;

class QemuFrameDecoderTest {
    private final EmbeddedChannel channel = new EmbeddedChannel(new QemuFrameDecoder());

    @Test
    void framesSplitAcrossReadsAndSeveralInOneReadAreAllDecoded() {
        ByteBuf stream = Unpooled.buffer();
        stream.writeInt(3).writeBytes(new byte[] {1, 2, 3}).writeInt(2).writeBytes(new byte[] {4, 5});
        stream.writeInt(1).writeByte(6);
        channel.writeInbound(stream.readRetainedSlice(2)); // half a length
        assertThat(channel.inboundMessages()).isEmpty();
        channel.writeInbound(stream.readRetainedSlice(4)); // rest of the length, part of the frame
        assertThat(channel.inboundMessages()).isEmpty();
        channel.writeInbound(stream.readRetainedSlice(stream.readableBytes()));
        stream.release();

        assertThat(readFrame()).containsExactly(1, 2, 3);
        assertThat(readFrame()).containsExactly(4, 5);
        assertThat(readFrame()).containsExactly(6);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void theLargestFrameIsAccepted() {
        ByteBuf stream = Unpooled.buffer().writeInt(QemuFraming.MAX_FRAME_BYTES)
                .writeZero(QemuFraming.MAX_FRAME_BYTES);
        channel.writeInbound(stream);

        assertThat(readFrame()).hasSize(QemuFraming.MAX_FRAME_BYTES);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aZeroLengthBreaksTheStreamForGood() {
        ByteBuf stream = Unpooled.buffer().writeInt(1).writeByte(9).writeInt(0).writeInt(1).writeByte(8);

        assertThatThrownBy(() -> channel.writeInbound(stream)).isInstanceOf(CorruptedFrameException.class)
                .hasMessageContaining("frame length 0 is outside 1 to " + QemuFraming.MAX_FRAME_BYTES);
        assertThat(readFrame()).as("the frame before the bad length").containsExactly(9);

        channel.writeInbound(Unpooled.buffer().writeInt(1).writeByte(7));
        assertThat(channel.inboundMessages()).as("nothing after it: there is no resynchronising").isEmpty();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aLengthBeyondTheLargestFrameIsRefusedBeforeWaitingForItsBytes() {
        ByteBuf stream = Unpooled.buffer().writeInt(QemuFraming.MAX_FRAME_BYTES + 1);

        assertThatThrownBy(() -> channel.writeInbound(stream)).isInstanceOf(CorruptedFrameException.class)
                .hasMessageContaining("frame length " + (QemuFraming.MAX_FRAME_BYTES + 1));
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void theLengthIsUnsigned() {
        ByteBuf stream = Unpooled.buffer().writeInt(-1);

        assertThatThrownBy(() -> channel.writeInbound(stream)).isInstanceOf(CorruptedFrameException.class)
                .hasMessageContaining("frame length 4294967295");
        assertThat(channel.finish()).isFalse();
    }

    private byte[] readFrame() {
        ByteBuf frame = channel.readInbound();
        assertThat(frame).isNotNull();
        try {
            return ByteBufUtil.getBytes(frame);
        } finally {
            frame.release();
        }
    }
}
