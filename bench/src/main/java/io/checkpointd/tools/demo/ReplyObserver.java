package io.checkpointd.tools.demo;

/**
 * Sees every successful reply {@link KvClient} receives. The demo plugs in {@link ReplicaObserver}, which
 * needs the backup's replica on this host; a client of a real guest has no such view and uses {@link #NONE}.
 */
@FunctionalInterface
public interface ReplyObserver {
    ReplyObserver NONE = (key, value) -> {
    };

    /** The service said {@code key} holds {@code value}; called on the client's thread, must not block. */
    void onReply(int key, long value);
}
