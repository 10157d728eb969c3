package io.checkpointd.driver;

import io.checkpointd.replication.wire.GuestSpec;
import java.nio.file.Path;

/**
 * A driver's backup side: starts a guest from a replica after a failover, and may keep a standby ready
 * ahead of one. Called on the backup's event loop; {@link StandbyListener}s it is given may be called from
 * any thread.
 */
public interface GuestRestorer extends AutoCloseable {
    /**
     * Starts the guest {@code guest} describes from its committed checkpoint; the result runs until closed.
     *
     * @param diskImage  the disk replica's image, or null when the guest has no mirrored disk
     * @param ramInPlace a standby's RAM file the replica was mirrored into up to the last commit (so it need
     *                   not be copied), or null
     */
    AutoCloseable restore(String domain, GuestSpec guest, Path replicaRamFile, byte[] deviceState, Path diskImage,
                          Path ramInPlace) throws Exception;

    /**
     * Why this host could not restore {@code guest}, or null when it could: asked at HELLO, so a backup that
     * would fail at failover refuses to pretend it protects anything.
     */
    default String cannotRestore(GuestSpec guest) {
        return null;
    }

    /**
     * A primary connected: get ready ahead of a failover (start the guest paused, waiting for its state), so
     * a failover has less to do. Failures only cost that head start.
     *
     * @param listener told whenever such a standby becomes ready or stops being
     */
    default void prepare(String domain, GuestSpec guest, Path diskImage, StandbyListener listener) {
    }

    /** No failover will follow (planned stop, or the backup closes): drop what {@link #prepare} made. */
    default void unprepare(String domain) {
    }

    @Override
    default void close() {
    }
}
