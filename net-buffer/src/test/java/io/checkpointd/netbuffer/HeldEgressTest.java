package io.checkpointd.netbuffer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Output commit on its event loop: pass-through until protected, held per epoch after, all freed on release. */
class HeldEgressTest {
    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final List<Integer> wire = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private HeldEgress egress(boolean outputCommit) {
        OutputBuffer buffer = new OutputBuffer(1 << 20, 1000, new SimpleMeterRegistry(), Tags.empty());
        return new HeldEgress(loop, buffer, frame -> {
            wire.add(frame.getInt(0));
            frame.release();
        }, System::nanoTime, outputCommit);
    }

    private static ByteBuf frame(int id) {
        return Unpooled.buffer(4).writeInt(id);
    }

    private void drain() throws Exception {
        loop.submit(() -> { }).get(5, TimeUnit.SECONDS);
    }

    @Test
    void holdsFromTheFirstBarrierAndReleasesEpochByEpoch() throws Exception {
        HeldEgress egress = egress(true);
        egress.transmit(frame(1)); // no backup yet: unprotected, passes
        egress.barrier(1);
        egress.transmit(frame(2));
        egress.barrier(2);
        egress.transmit(frame(3));
        drain();
        assertThat(wire).containsExactly(1);
        egress.release(1);
        drain();
        assertThat(wire).as("epoch 1 had nothing; frame 2 belongs to epoch 2").containsExactly(1);
        egress.release(2);
        drain();
        assertThat(wire).containsExactly(1, 2);
        egress.releaseAll();
        egress.transmit(frame(4));
        drain();
        assertThat(wire).as("backup lost: everything goes, and new output passes").containsExactly(1, 2, 3, 4);
        egress.close();
    }

    @Test
    void withoutOutputCommitNothingIsHeld() throws Exception {
        HeldEgress egress = egress(false);
        egress.barrier(1);
        egress.transmit(frame(1));
        drain();
        assertThat(wire).containsExactly(1);
        egress.close();
    }
}
