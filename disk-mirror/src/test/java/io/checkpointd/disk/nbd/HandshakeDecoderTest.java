package io.checkpointd.disk.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HandshakeDecoderTest {
    private static final int MAX_OPTION = 16;

    private final EmbeddedChannel channel = new EmbeddedChannel(new HandshakeDecoder(MAX_OPTION));

    @AfterEach
    void finish() {
        assertThat(channel.finish()).as("nothing left behind").isFalse();
    }

    private static ByteBuf option(int code, byte[] data) {
        return Unpooled.buffer().writeLong(Nbd.IHAVEOPT).writeInt(code).writeInt(data.length).writeBytes(data);
    }

    @Test
    void flagsThenOptionsFedAByteAtATime() {
        ByteBuf bytes = Unpooled.buffer().writeInt(3)
                .writeBytes(option(Nbd.OPT_EXPORT_NAME, "disk0".getBytes(StandardCharsets.UTF_8)))
                .writeBytes(option(Nbd.OPT_LIST, new byte[0]));
        while (bytes.isReadable()) {
            channel.writeInbound(bytes.readRetainedSlice(1));
        }
        bytes.release();

        assertThat(channel.<Object>readInbound()).isEqualTo(new HandshakeMessage.ClientFlags(3));
        HandshakeMessage.Option exportName = channel.readInbound();
        assertThat(exportName.code()).isEqualTo(Nbd.OPT_EXPORT_NAME);
        assertThat(exportName.content().toString(StandardCharsets.UTF_8)).isEqualTo("disk0");
        exportName.release();
        HandshakeMessage.Option list = channel.readInbound();
        assertThat(list.code()).isEqualTo(Nbd.OPT_LIST);
        assertThat(list.content().readableBytes()).isZero();
        list.release();
    }

    @Test
    void anOversizedOptionIsReportedAtOnceAndItsDataSkipped() {
        channel.writeInbound(Unpooled.buffer().writeInt(1).writeLong(Nbd.IHAVEOPT).writeInt(Nbd.OPT_GO)
                .writeInt(MAX_OPTION + 100));
        assertThat(channel.<Object>readInbound()).isEqualTo(new HandshakeMessage.ClientFlags(1));
        assertThat(channel.<Object>readInbound()).isEqualTo(new HandshakeMessage.OversizedOption(Nbd.OPT_GO,
                MAX_OPTION + 100));

        channel.writeInbound(Unpooled.wrappedBuffer(new byte[MAX_OPTION + 100]), option(Nbd.OPT_ABORT, new byte[0]));
        HandshakeMessage.Option abort = channel.readInbound();
        assertThat(abort.code()).isEqualTo(Nbd.OPT_ABORT);
        abort.release();
    }

    @Test
    void anOptionWithoutMagicFailsAndLaterInputIsDiscarded() {
        channel.writeInbound(Unpooled.buffer().writeInt(1));
        assertThat(channel.<Object>readInbound()).isEqualTo(new HandshakeMessage.ClientFlags(1));
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeLong(42).writeInt(1).writeInt(0)))
                .isInstanceOf(CorruptedFrameException.class).hasMessageContaining("IHAVEOPT");
        ByteBuf later = option(Nbd.OPT_LIST, new byte[0]);
        channel.writeInbound(later);
        assertThat(channel.<Object>readInbound()).isNull();
        assertThat(later.refCnt()).isZero();
    }
}
