package io.checkpointd.failure;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class HeartbeatDatagramTest {
    private static final HeartbeatDatagram SAMPLE =
            new HeartbeatDatagram(0x1122334455667788L, 7, Long.MAX_VALUE, -5, 42);

    private static ByteBuf encoded(HeartbeatDatagram datagram) {
        ByteBuf buf = Unpooled.buffer(HeartbeatDatagram.LENGTH);
        datagram.encodeInto(buf, null);
        return buf;
    }

    @Test
    void roundTripsEveryField() {
        ByteBuf buf = encoded(SAMPLE);
        try {
            assertThat(buf.readableBytes()).isEqualTo(HeartbeatDatagram.LENGTH);
            assertThat(HeartbeatDatagram.decode(buf)).isEqualTo(SAMPLE);
            assertThat(buf.readerIndex()).isZero();
        } finally {
            buf.release();
        }
    }

    @Test
    void layoutMatchesTheDocumentedOffsets() {
        ByteBuf buf = encoded(SAMPLE);
        try {
            assertThat(buf.getByte(0)).isEqualTo((byte) 'C');
            assertThat(buf.getByte(1)).isEqualTo((byte) 'K');
            assertThat(buf.getByte(2)).isEqualTo((byte) 'H');
            assertThat(buf.getByte(3)).isEqualTo((byte) 'B');
            assertThat(buf.getByte(HeartbeatDatagram.VERSION_OFFSET)).isEqualTo((byte) 2);
            assertThat(buf.getLong(HeartbeatDatagram.SESSION_TOKEN_OFFSET)).isEqualTo(0x1122334455667788L);
            assertThat(buf.getLong(HeartbeatDatagram.SEQUENCE_OFFSET)).isEqualTo(7);
            assertThat(buf.getLong(HeartbeatDatagram.SENT_NANOS_OFFSET)).isEqualTo(Long.MAX_VALUE);
            assertThat(buf.getLong(HeartbeatDatagram.ECHO_NANOS_OFFSET)).isEqualTo(-5);
            assertThat(buf.getLong(HeartbeatDatagram.ECHO_DELAY_NANOS_OFFSET)).isEqualTo(42);
            assertThat(HeartbeatDatagram.ECHO_DELAY_NANOS_OFFSET + Long.BYTES).isEqualTo(HeartbeatDatagram.TAG_OFFSET);
        } finally {
            buf.release();
        }
    }

    @Test
    void rejectsWrongLengthMagicOrVersion() {
        ByteBuf good = encoded(SAMPLE);
        try {
            assertThat(HeartbeatDatagram.decode(good.slice(0, HeartbeatDatagram.LENGTH - 1))).isNull();
            assertThat(HeartbeatDatagram.decode(Unpooled.EMPTY_BUFFER)).isNull();

            ByteBuf longer = Unpooled.buffer().writeBytes(good.duplicate()).writeByte(0);
            assertThat(HeartbeatDatagram.decode(longer)).isNull();
            longer.release();

            ByteBuf badMagic = good.copy();
            badMagic.setByte(HeartbeatDatagram.MAGIC_OFFSET, 'X');
            assertThat(HeartbeatDatagram.decode(badMagic)).isNull();
            badMagic.release();

            ByteBuf badVersion = good.copy();
            badVersion.setByte(HeartbeatDatagram.VERSION_OFFSET, 1); // version 1 had no tag
            assertThat(HeartbeatDatagram.decode(badVersion)).isNull();
            badVersion.release();
        } finally {
            good.release();
        }
    }
}
