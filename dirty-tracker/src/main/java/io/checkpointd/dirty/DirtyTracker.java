package io.checkpointd.dirty;

/**
 * Finds the guest pages written since the previous collection.
 *
 * <p>Contract: {@link #collect()} is called by the epoch loop while the guest is paused, so no page can
 * change during the call. It returns every page written since the previous call (or since the tracker was
 * armed, for the first call) and starts a new interval. A tracker may report a page that was written back
 * to its old contents; it must never miss a written page.
 */
public interface DirtyTracker extends AutoCloseable {

    /** A short name for logs and metrics: {@code exact}, {@code scan}, {@code soft-dirty}. */
    String name();

    /**
     * The pages written since the previous call. The returned set belongs to the caller until the next
     * call to {@code collect()}, when the tracker may reuse it.
     */
    DirtyPageSet collect();

    @Override
    default void close() {
    }
}
