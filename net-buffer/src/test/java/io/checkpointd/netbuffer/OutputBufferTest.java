package io.checkpointd.netbuffer;

import static io.checkpointd.netbuffer.Frames.frame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.checkpointd.netbuffer.Frames.RecordingSink;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

class OutputBufferTest {
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final RecordingSink sink = new RecordingSink();
    private final List<ByteBuf> created = new ArrayList<>();
    private OutputBuffer buffer = new OutputBuffer(1 << 20, 1000, registry, Tags.of("domain", "test"));

    @AfterEach
    void nothingLeaks() {
        buffer.close();
        assertThat(created).allSatisfy(f -> assertThat(f.refCnt()).isZero());
    }

    private ByteBuf add(int sizeBytes) {
        ByteBuf f = frame(sizeBytes);
        created.add(f);
        buffer.add(f, 0);
        return f;
    }

    @Test
    void holdsFramesUntilAnAckCoversTheirBarrier() {
        ByteBuf a = add(10);
        ByteBuf b = add(20);
        buffer.barrier(1);
        ByteBuf c = add(30);

        assertThat(buffer.releaseUpTo(0, 0, sink)).isZero();
        sink.assertReceived().isEmpty();
        assertThat(a.refCnt()).isOne();

        assertThat(buffer.releaseUpTo(1, 0, sink)).isEqualTo(2);
        sink.assertReceived().containsExactly(a, b);
        assertThat(buffer.heldFrames()).isOne();
        assertThat(buffer.heldBytes()).isEqualTo(30);
        assertThat(buffer.lastReleasedEpoch()).isEqualTo(1);
        assertThat(c.refCnt()).isOne();

        buffer.barrier(2);
        assertThat(buffer.releaseUpTo(1, 0, sink)).as("repeated ack").isZero();
        assertThat(buffer.releaseUpTo(7, 0, sink)).isOne();
        sink.assertReceived().containsExactly(a, b, c);
        assertThat(buffer.heldFrames()).isZero();
        assertThat(buffer.heldBytes()).isZero();
        assertThat(buffer.lastReleasedEpoch()).isEqualTo(2);
    }

    @Test
    void anAckReleasesEveryBarrierItCoversInOrder() {
        ByteBuf a = add(1);
        buffer.barrier(3);
        ByteBuf b = add(1);
        buffer.barrier(4);
        ByteBuf c = add(1);
        buffer.barrier(9);
        ByteBuf open = add(1);

        assertThat(buffer.releaseUpTo(8, 0, sink)).isEqualTo(2);
        sink.assertReceived().containsExactly(a, b);
        assertThat(buffer.lastReleasedEpoch()).isEqualTo(4);

        assertThat(buffer.releaseUpTo(9, 0, sink)).isOne();
        sink.assertReceived().containsExactly(a, b, c);
        assertThat(open.refCnt()).isOne();
        assertThat(buffer.heldFrames()).isOne();
    }

    @Test
    void framesOfTheOpenEpochStayWhateverTheAck() {
        ByteBuf a = add(5);
        assertThat(buffer.releaseUpTo(Long.MAX_VALUE, 0, sink)).isZero();
        assertThat(a.refCnt()).isOne();
        assertThat(buffer.lastReleasedEpoch()).isEqualTo(OutputBuffer.NO_EPOCH);
    }

    @Test
    void emptyEpochsAreAcknowledgedWithoutFrames() {
        buffer.barrier(1);
        buffer.barrier(2);
        assertThat(buffer.releaseUpTo(2, 0, sink)).isZero();
        assertThat(buffer.lastReleasedEpoch()).isEqualTo(2);
    }

    @Test
    void barrierEpochsMustStrictlyIncrease() {
        assertThatThrownBy(() -> buffer.barrier(-1)).isInstanceOf(IllegalArgumentException.class);
        buffer.barrier(0);
        buffer.barrier(5);
        assertThatThrownBy(() -> buffer.barrier(5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("5");
        assertThatThrownBy(() -> buffer.barrier(4)).isInstanceOf(IllegalArgumentException.class);

        ByteBuf a = add(1);
        buffer.barrier(6);
        assertThat(buffer.releaseUpTo(6, 0, sink)).as("a rejected barrier leaves no trace").isOne();
        sink.assertReceived().containsExactly(a);
    }

    @Test
    void tailDropsTheNewFrameAtTheFrameLimit() {
        buffer.close();
        buffer = new OutputBuffer(1 << 20, 2, registry, Tags.of("domain", "frames"));
        ByteBuf a = add(10);
        ByteBuf b = add(10);
        ByteBuf c = frame(10);
        created.add(c);

        assertThat(buffer.add(c, 0)).isFalse();
        assertThat(c.refCnt()).as("dropped frame is freed").isZero();
        assertThat(a.refCnt()).as("held frames are never pushed out").isOne();
        assertThat(b.refCnt()).isOne();
        assertThat(buffer.heldFrames()).isEqualTo(2);

        buffer.barrier(1);
        buffer.releaseUpTo(1, 0, sink);
        ByteBuf d = frame(10);
        created.add(d);
        assertThat(buffer.add(d, 0)).as("room again after a release").isTrue();
    }

    @Test
    void tailDropsTheNewFrameAtTheByteLimit() {
        buffer.close();
        buffer = new OutputBuffer(100, 1000, registry, Tags.of("domain", "bytes"));
        ByteBuf big = frame(101);
        created.add(big);
        assertThat(buffer.add(big, 0)).as("larger than the whole buffer").isFalse();
        assertThat(big.refCnt()).isZero();

        add(60);
        ByteBuf over = frame(41);
        created.add(over);
        assertThat(buffer.add(over, 0)).isFalse();
        assertThat(over.refCnt()).isZero();

        ByteBuf exact = frame(40);
        created.add(exact);
        assertThat(buffer.add(exact, 0)).as("exactly at the limit fits").isTrue();
        assertThat(buffer.heldBytes()).isEqualTo(100);

        ByteBuf empty = frame(0);
        created.add(empty);
        assertThat(buffer.add(empty, 0)).as("an empty frame takes no bytes").isTrue();
        assertThat(buffer.heldFrames()).isEqualTo(3);
    }

    @Test
    void releaseAllSendsEverythingInOrderAndTheBufferKeepsWorking() {
        ByteBuf a = add(1);
        buffer.barrier(1);
        ByteBuf b = add(2);
        buffer.barrier(2);
        ByteBuf c = add(3);

        assertThat(buffer.releaseAll(0, sink)).isEqualTo(3);
        sink.assertReceived().containsExactly(a, b, c);
        assertThat(buffer.heldFrames()).isZero();
        assertThat(buffer.heldBytes()).isZero();
        assertThat(buffer.lastReleasedEpoch()).isEqualTo(2);

        ByteBuf d = add(4);
        assertThatThrownBy(() -> buffer.barrier(2)).isInstanceOf(IllegalArgumentException.class);
        buffer.barrier(3);
        ByteBuf e = add(5);
        assertThat(buffer.releaseUpTo(2, 0, sink)).as("old ack after releaseAll").isZero();
        assertThat(buffer.releaseUpTo(3, 0, sink)).isOne();
        sink.assertReceived().containsExactly(a, b, c, d);
        assertThat(e.refCnt()).isOne();
    }

    @Test
    void discardAllFreesWithoutSending() {
        add(1);
        buffer.barrier(1);
        add(2);

        buffer.discardAll();

        assertThat(created).allSatisfy(f -> assertThat(f.refCnt()).isZero());
        assertThat(buffer.heldFrames()).isZero();
        assertThat(buffer.heldBytes()).isZero();
        assertThat(buffer.releaseUpTo(1, 0, sink)).isZero();
        sink.assertReceived().isEmpty();
        assertThat(buffer.lastReleasedEpoch()).as("discarded is not released").isEqualTo(OutputBuffer.NO_EPOCH);

        ByteBuf a = add(3);
        buffer.barrier(2);
        assertThat(buffer.releaseUpTo(2, 0, sink)).isOne();
        sink.assertReceived().containsExactly(a);
    }

    @Test
    void aThrowingSinkOwnsItsFrameAndTheRestGoOutNextTime() {
        ByteBuf a = add(1);
        ByteBuf b = add(1);
        buffer.barrier(1);

        assertThatThrownBy(() -> buffer.releaseUpTo(1, 0, f -> {
            f.release();
            throw new IllegalStateException("channel closed");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(a.refCnt()).isZero();
        assertThat(b.refCnt()).isOne();
        assertThat(buffer.heldFrames()).isOne();

        assertThat(buffer.releaseUpTo(1, 0, sink)).as("already acknowledged").isOne();
        sink.assertReceived().containsExactly(b);
    }

    @Test
    void rejectsBadLimits() {
        assertThatThrownBy(() -> new OutputBuffer(0, 1, registry, Tags.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxHeldBytes");
        assertThatThrownBy(() -> new OutputBuffer(1, 0, registry, Tags.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxHeldFrames");
    }
}
