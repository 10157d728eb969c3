package io.checkpointd.primary;

import io.checkpointd.replication.wire.Frame;

/**
 * The primary's connection to its backup, as the epoch loop and the sender use it. Each established
 * connection (HELLO accepted) has a new generation; work prepared for an older generation is dropped,
 * because the backup on a new connection starts with a full checkpoint.
 *
 * <p>Public for the send-path benchmark in bench/, which gives the sender a link of its own.
 */
public interface ReplicationLink {

    /** Connected, and the backup accepted our HELLO. */
    boolean isReady();

    /** The current connection's generation; increases with every accepted HELLO. */
    long generation();

    /** True once per connection: the next checkpoint must carry every page. */
    boolean takeFullSyncRequest();

    /** The lowest epoch number the backup will accept (its last committed epoch + 1). */
    long minimumNextEpoch();

    /**
     * Writes a frame (ownership passes to the link) if connection {@code generation} is still up;
     * returns false, releasing the frame, if it is gone.
     */
    boolean send(long generation, Frame frame);

    void flush(long generation);

    /** Gives up the current connection (it reconnects and re-synchronises fully); {@code reason} is logged. */
    void drop(String reason);

    /** Waits until the socket can take more (back-pressure); returns false if the connection went away. */
    boolean awaitWritable(long generation) throws InterruptedException;
}
