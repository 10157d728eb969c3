package io.checkpointd.driver;

import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.netbuffer.HeldEgress;
import io.checkpointd.replication.wire.GuestSpec;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * The guest a primary protects, with what its driver put around it: the network path whose output is held
 * per epoch, the dirty tracker, the disk whose writes are mirrored, and what a backup needs to restore it.
 * Made by {@link Driver#attach}; {@link #close()} stops all of it.
 */
public interface GuestAttachment extends AutoCloseable {

    ProtectedDomain domain();

    /** Chosen from what the driver offers (see {@code domain.dirty-tracker}); owned by the attachment. */
    DirtyTracker tracker();

    /** The guest's outgoing network path with output commit. */
    HeldEgress egress();

    /** Sent to the backup in HELLO: the driver, the sizes, and what it needs to start this guest after a failover. */
    GuestSpec guest();

    /** The guest's disk image, whose full copy a new backup gets; null without a mirrored disk. */
    Path diskImage();

    /** One line for the daemon's start message: where the guest's service or network is. */
    String summary();

    /** Where the guest's service answers, when the driver knows it (the sim guest's UDP port); else null. */
    default InetSocketAddress serviceAddress() {
        return null;
    }

    /** Requests the guest's own network dropped because the guest was too busy to take them (sim); else 0. */
    default long guestDrops() {
        return 0;
    }

    /**
     * Completes, with a reason, when the guest stops by itself (its QEMU exits); never for a sim guest.
     * Lets the daemon hand over at once instead of at its next pause.
     */
    default CompletableFuture<String> lost() {
        return new CompletableFuture<>();
    }

    /**
     * Stops the guest from running and from reaching the outside, as fast as possible, before the backup is
     * asked to take it over: it must never run in two places. The rest is left to {@link #close()} or to
     * the process ending.
     */
    default void fence() {
        close();
    }

    @Override
    void close();
}
