package io.checkpointd.primary;

import io.checkpointd.replication.wire.Frame;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Sits in the primary's pipeline between the codec and the client and breaks the connection where the
 * current {@link Fault} says: before writing a matching frame, or on receiving one. That frame and everything
 * after it on this connection are dropped, as a process dying at that point would leave them; the fault's
 * {@code onFault} runs first (the harness uses it to silence the dead primary's other outputs). The fault is
 * looked up at every frame, so a test arms it on a connection that is already up.
 */
final class FaultInjector extends ChannelDuplexHandler {
    /** Where to break, and what else happens at that moment. */
    record Fault(Predicate<Frame> beforeWriting, Predicate<Frame> onReceiving, Runnable onFault) {
        static final Fault NONE = new Fault(f -> false, f -> false, () -> { });
    }

    private final Supplier<Fault> current;
    private boolean faulted;

    FaultInjector(Supplier<Fault> current) {
        this.current = current;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (faulted || (msg instanceof Frame f && current.get().beforeWriting().test(f))) {
            fault(ctx);
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new IOException("connection broken by the fault injector"));
            return;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (faulted || (msg instanceof Frame f && current.get().onReceiving().test(f))) {
            fault(ctx);
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void fault(ChannelHandlerContext ctx) {
        if (!faulted) {
            faulted = true;
            current.get().onFault().run();
            // What was written before the fault point has left the host; only what comes after is lost.
            ctx.flush();
            ctx.close();
        }
    }
}
