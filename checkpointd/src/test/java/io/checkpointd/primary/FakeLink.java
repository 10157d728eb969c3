package io.checkpointd.primary;

import io.checkpointd.replication.wire.Frame;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A replication link that hands frames to a consumer (a list, or a backup session in the same thread). */
final class FakeLink implements ReplicationLink {
    boolean ready = true;
    long generation = 1;
    boolean fullSyncPending = true;
    long minimumNextEpoch = 1;
    private final Consumer<Frame> frames;

    FakeLink(Consumer<Frame> frames) {
        this.frames = frames;
    }

    static FakeLink collecting(List<Frame> into) {
        return new FakeLink(into::add);
    }

    /** A new connection: the next checkpoint must be full. */
    void reconnect() {
        ready = true;
        generation++;
        fullSyncPending = true;
    }

    @Override public boolean isReady() { return ready; }
    @Override public long generation() { return generation; }
    @Override public boolean takeFullSyncRequest() { boolean f = fullSyncPending; fullSyncPending = false; return f; }
    @Override public long minimumNextEpoch() { return minimumNextEpoch; }
    @Override public void flush(long gen) { }
    @Override public void drop(String reason) { ready = false; }
    @Override public boolean awaitWritable(long gen) { return gen == generation && ready; }

    @Override
    public boolean send(long gen, Frame frame) {
        if (gen != generation || !ready) {
            io.netty.util.ReferenceCountUtil.release(frame);
            return false;
        }
        frames.accept(frame);
        return true;
    }
}
