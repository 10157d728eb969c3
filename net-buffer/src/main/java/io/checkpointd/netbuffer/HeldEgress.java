package io.checkpointd.netbuffer;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The guest's egress path with output commit: frames the guest transmits, barriers from the epoch loop and
 * releases on ACK all run, in the order they were asked for, on one event loop that alone owns the
 * {@link OutputBuffer}. That order is what makes the barrier correct: a frame the guest sent before the
 * pause was queued to the loop before the epoch loop queued the barrier.
 *
 * <p>Until the first barrier (no backup yet) and after {@link #releaseAll()} (backup lost), frames pass
 * straight through: the guest runs unprotected rather than going silent. With {@code outputCommit} off,
 * nothing is ever held: the unprotected baseline for experiments. Times (how long a frame was held) come
 * from {@code nanoClock}, a monotonic clock the owner passes in, so a test can drive it.
 */
public final class HeldEgress implements OutputCommit, AutoCloseable {
    private final EventLoop loop;
    private final OutputBuffer buffer;
    private final Consumer<ByteBuf> wire;
    private final LongSupplier nanoClock;
    private final boolean outputCommit;
    private boolean holding;

    public HeldEgress(EventLoop loop, OutputBuffer buffer, Consumer<ByteBuf> wire, LongSupplier nanoClock,
                      boolean outputCommit) {
        this.loop = loop;
        this.buffer = buffer;
        this.wire = wire;
        this.nanoClock = nanoClock;
        this.outputCommit = outputCommit;
    }

    /** A frame from the guest; ownership passes here. Any thread. */
    public void transmit(ByteBuf frame) {
        loop.execute(() -> {
            if (holding) {
                buffer.add(frame, nanoClock.getAsLong());
            } else {
                wire.accept(frame);
            }
        });
    }

    @Override
    public void barrier(long epoch) {
        loop.execute(() -> {
            buffer.barrier(epoch);
            holding = outputCommit;
        });
    }

    @Override
    public void release(long epoch) {
        loop.execute(() -> buffer.releaseUpTo(epoch, nanoClock.getAsLong(), wire));
    }

    @Override
    public void releaseAll() {
        loop.execute(() -> {
            buffer.releaseAll(nanoClock.getAsLong(), wire);
            holding = false;
        });
    }

    @Override
    public void close() {
        if (loop.inEventLoop()) {
            buffer.close();
        } else if (!loop.isShuttingDown()) {
            loop.submit(buffer::close).syncUninterruptibly();
        }
    }
}
