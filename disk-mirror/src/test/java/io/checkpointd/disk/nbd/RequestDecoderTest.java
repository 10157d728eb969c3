package io.checkpointd.disk.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestDecoderTest {
    private static final int MAX_PAYLOAD = 64;

    private final EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(MAX_PAYLOAD));

    @AfterEach
    void finish() {
        assertThat(channel.finish()).as("nothing left behind").isFalse();
    }

    private static ByteBuf request(int flags, int type, long cookie, long offset, long length) {
        return Unpooled.buffer().writeInt(Nbd.REQUEST_MAGIC).writeShort(flags).writeShort(type).writeLong(cookie)
                .writeLong(offset).writeInt((int) length);
    }

    private NbdRequest read() {
        NbdRequest request = channel.readInbound();
        assertThat(request).isNotNull();
        return request;
    }

    @Test
    void aRequestWithoutDataIsEmittedAsSoonAsItsHeaderIsComplete() {
        ByteBuf bytes = request(1, Nbd.CMD_READ, 0x1122334455667788L, -2L, 0xFFFF_FFFFL);
        assertThat(channel.writeInbound(bytes.readRetainedSlice(27))).isFalse();
        assertThat(channel.writeInbound(bytes)).isTrue();

        NbdRequest request = read();
        assertThat(request.flags()).isEqualTo(1);
        assertThat(request.type()).isEqualTo(Nbd.CMD_READ);
        assertThat(request.cookie()).isEqualTo(0x1122334455667788L);
        assertThat(request.offset()).as("unsigned on the wire").isEqualTo(-2L);
        assertThat(request.length()).isEqualTo(0xFFFF_FFFFL);
        assertThat(request.data().readableBytes()).isZero();
        request.release();
    }

    @Test
    void aWriteWaitsForItsDataFedAByteAtATime() {
        ByteBuf bytes = request(0, Nbd.CMD_WRITE, 7, 4096, 5).writeBytes(new byte[] {1, 2, 3, 4, 5})
                .writeBytes(request(0, Nbd.CMD_FLUSH, 8, 0, 0));
        while (bytes.isReadable()) {
            channel.writeInbound(bytes.readRetainedSlice(1));
        }
        bytes.release();

        NbdRequest write = read();
        assertThat(write.offset()).isEqualTo(4096);
        assertThat(ByteBufToArray.of(write.data())).containsExactly(1, 2, 3, 4, 5);
        write.release();
        NbdRequest flush = read();
        assertThat(flush.type()).isEqualTo(Nbd.CMD_FLUSH);
        flush.release();
    }

    @Test
    void aZeroLengthWriteDoesNotWaitForMoreBytes() {
        channel.writeInbound(request(0, Nbd.CMD_WRITE, 1, 0, 0));
        NbdRequest write = read();
        assertThat(write.data().readableBytes()).isZero();
        write.release();
    }

    @Test
    void anOversizedWriteIsEmittedAtOnceAndItsDataSkippedNotBuffered() {
        channel.writeInbound(request(0, Nbd.CMD_WRITE, 1, 0, MAX_PAYLOAD + 10));
        NbdRequest oversized = read();
        assertThat(oversized.payloadTooLarge()).isTrue();
        assertThat(oversized.data().readableBytes()).isZero();
        oversized.release();

        channel.writeInbound(Unpooled.wrappedBuffer(new byte[MAX_PAYLOAD]));
        assertThat(channel.<Object>readInbound()).isNull();
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[10]), request(0, Nbd.CMD_READ, 2, 0, 1));
        NbdRequest next = read();
        assertThat(next.cookie()).as("the request after the skipped data").isEqualTo(2);
        next.release();
    }

    @Test
    void aWriteAtTheLimitIsRead() {
        channel.writeInbound(request(0, Nbd.CMD_WRITE, 1, 0, MAX_PAYLOAD).writeZero(MAX_PAYLOAD));
        NbdRequest write = read();
        assertThat(write.payloadTooLarge()).isFalse();
        assertThat(write.data().readableBytes()).isEqualTo(MAX_PAYLOAD);
        write.release();
    }

    @Test
    void aBadMagicFailsAndEverythingAfterIsDiscarded() {
        ByteBuf bad = Unpooled.buffer().writeInt(0xdeadbeef).writeZero(24);
        assertThatThrownBy(() -> channel.writeInbound(bad)).isInstanceOf(CorruptedFrameException.class)
                .hasMessageContaining("0xdeadbeef");

        ByteBuf valid = request(0, Nbd.CMD_READ, 1, 0, 1);
        channel.writeInbound(valid);
        assertThat(channel.<Object>readInbound()).as("no resynchronisation after a framing error").isNull();
        assertThat(valid.refCnt()).isZero();
    }

    /** Copies a buffer's readable bytes. */
    private static final class ByteBufToArray {
        static byte[] of(ByteBuf buf) {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.getBytes(buf.readerIndex(), bytes);
            return bytes;
        }
    }

    @Test
    void unreadPartialInputIsReleasedWhenTheChannelCloses() {
        ByteBuf partial = request(0, Nbd.CMD_WRITE, 1, 0, 10).writeZero(5);
        channel.writeInbound(partial);
        assertThat(channel.finish()).isFalse();
        assertThat(partial.refCnt()).isZero();
    }
}
