package io.checkpointd.bench.primary;

import io.checkpointd.primary.ReplicationLink;
import io.checkpointd.replication.wire.Frame;
import java.util.function.Consumer;

/**
 * A replication link to a backup that is always there and never slow: one connection (generation 1),
 * never a full-sync request, never back-pressure. Every frame goes to a sink, which owns it.
 */
final class SinkLink implements ReplicationLink {
    private static final long GENERATION = 1;

    private final Consumer<Frame> sink;

    SinkLink(Consumer<Frame> sink) {
        this.sink = sink;
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public long generation() {
        return GENERATION;
    }

    @Override
    public boolean takeFullSyncRequest() {
        return false;
    }

    @Override
    public long minimumNextEpoch() {
        return 1;
    }

    @Override
    public boolean send(long generation, Frame frame) {
        sink.accept(frame);
        return true;
    }

    @Override
    public void flush(long generation) {
    }

    @Override
    public boolean awaitWritable(long generation) {
        return true;
    }

    @Override
    public void drop(String reason) {
        throw new IllegalStateException("the benchmark link never drops: " + reason);
    }
}
