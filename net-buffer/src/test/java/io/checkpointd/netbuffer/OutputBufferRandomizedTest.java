package io.checkpointd.netbuffer;

import static io.checkpointd.netbuffer.Frames.frame;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Random interleavings of add, barrier, and ack against a model of the output-commit rule: a frame leaves
 * only after an ack that covers its barrier, frames leave in the order added, and every frame leaves
 * (released or dropped) exactly once.
 */
class OutputBufferRandomizedTest {
    private static final int MAX_HELD_FRAMES = 40;
    private static final long MAX_HELD_BYTES = 3_000;

    /** A frame the test created, with what the model knows about it. */
    private static final class Tracked {
        final int order;
        final ByteBuf frame;
        final int sizeBytes;
        Long epoch; // null while in the open epoch
        boolean acked;

        Tracked(int order, ByteBuf frame, int sizeBytes) {
            this.order = order;
            this.frame = frame;
            this.sizeBytes = sizeBytes;
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 0xC0FFEE, 20_260_101})
    void noFrameLeavesBeforeItsCheckpointIsAcknowledged(long seed) {
        Random random = new Random(seed);
        Map<ByteBuf, Tracked> tracked = new IdentityHashMap<>();
        List<Tracked> all = new ArrayList<>();
        List<Tracked> held = new ArrayList<>();
        List<Tracked> open = new ArrayList<>();
        Set<ByteBuf> left = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Tracked> releasedInOrder = new ArrayList<>();
        long[] currentAck = {Long.MIN_VALUE};
        long lastBarrier = OutputBuffer.NO_EPOCH;
        long heldBytes = 0;
        long nowNs = 0;
        int dropped = 0;

        OutputBuffer buffer = new OutputBuffer(MAX_HELD_BYTES, MAX_HELD_FRAMES, new SimpleMeterRegistry(),
                Tags.of("seed", Long.toString(seed)));
        Consumer<ByteBuf> sink = f -> {
            Tracked t = tracked.get(f);
            assertThat(t).as("a frame the test added").isNotNull();
            assertThat(left.add(f)).as("frame %d handed out twice", t.order).isTrue();
            assertThat(t.epoch).as("frame %d released from the open epoch", t.order).isNotNull();
            assertThat(t.epoch).as("frame %d of epoch %d released by ack %d", t.order, t.epoch, currentAck[0])
                    .isLessThanOrEqualTo(currentAck[0]);
            assertThat(f.refCnt()).isOne();
            releasedInOrder.add(t);
            f.release();
        };

        for (int op = 0; op < 6_000; op++) {
            nowNs += random.nextInt(1_000_000);
            int dice = random.nextInt(100);
            if (dice < 70) {
                int size = random.nextInt(200);
                ByteBuf f = frame(size);
                Tracked t = new Tracked(all.size(), f, size);
                all.add(t);
                tracked.put(f, t);
                boolean fits = held.size() < MAX_HELD_FRAMES && heldBytes + size <= MAX_HELD_BYTES;
                assertThat(buffer.add(f, nowNs)).as("add of frame %d", t.order).isEqualTo(fits);
                if (fits) {
                    held.add(t);
                    open.add(t);
                    heldBytes += size;
                } else {
                    assertThat(f.refCnt()).as("dropped frame freed").isZero();
                    assertThat(left.add(f)).isTrue();
                    dropped++;
                }
            } else if (dice < 85) {
                long epoch = lastBarrier + 1 + random.nextInt(3);
                buffer.barrier(epoch);
                lastBarrier = epoch;
                for (Tracked t : open) {
                    t.epoch = epoch;
                }
                open.clear();
            } else {
                // Old, current and not-yet-barriered epochs alike.
                long ack = lastBarrier - 4 + random.nextInt(7);
                currentAck[0] = ack;
                List<Tracked> expected = new ArrayList<>();
                for (Tracked t : held) {
                    if (t.epoch != null && t.epoch <= ack) {
                        t.acked = true;
                    }
                    if (t.acked) {
                        expected.add(t);
                    }
                }
                int before = releasedInOrder.size();
                assertThat(buffer.releaseUpTo(ack, nowNs, sink)).isEqualTo(expected.size());
                assertThat(releasedInOrder.subList(before, releasedInOrder.size())).containsExactlyElementsOf(expected);
                held.removeAll(expected);
                for (Tracked t : expected) {
                    heldBytes -= t.sizeBytes;
                }
            }
            assertThat(buffer.heldFrames()).isEqualTo(held.size());
            assertThat(buffer.heldBytes()).isEqualTo(heldBytes);
        }

        assertThat(dropped).as("the limits were reached").isPositive();
        assertThat(releasedInOrder).as("some frames were released").isNotEmpty();
        for (int i = 1; i < releasedInOrder.size(); i++) {
            assertThat(releasedInOrder.get(i).order).isGreaterThan(releasedInOrder.get(i - 1).order);
        }

        currentAck[0] = Long.MAX_VALUE;
        for (Tracked t : open) {
            t.epoch = Long.MAX_VALUE; // releaseAll sends the open epoch too
        }
        assertThat(buffer.releaseAll(nowNs, sink)).isEqualTo(held.size());
        buffer.close();

        assertThat(left).hasSize(all.size());
        assertThat(all).allSatisfy(t -> assertThat(t.frame.refCnt()).isZero());
    }
}
