package io.checkpointd.driver;

import io.checkpointd.dirty.DirtyTracker;

/**
 * The guest being protected, as the epoch loop sees it. Two drivers implement it: {@code sim} (an
 * in-process guest) and {@code libvirt} (a QEMU domain, see docs/qemu-recipe.md).
 *
 * <p>The shape follows what stock QEMU can do: guest RAM is a shared file both the hypervisor and the
 * daemon map ({@link #memory()}); everything else (CPU registers, device queues, timers) is an opaque
 * blob captured while paused ({@link #captureDeviceState()}). A backup restores a guest from exactly
 * those two things, through {@link GuestRestorer}.
 *
 * <p>Threading: pause, capture and resume are called only by the epoch loop thread, in the order
 * pause, (begin device-state capture, collect dirty pages, copy them, capture device state), resume.
 * Every {@link #beginDeviceStateCapture()} is followed by one {@link #captureDeviceState()} before the
 * resume, also when the collect or the copy in between failed.
 */
public interface ProtectedDomain extends AutoCloseable {

    String name();

    /** Guest RAM, mapped into this process. Its contents are stable only between pause and resume. */
    GuestMemory memory();

    /** The tracker that knows which pages this guest wrote; collected while paused. */
    DirtyTracker dirtyTracker();

    /** Stops every guest CPU at a safe point; returns once no guest write can happen. */
    void pause();

    /**
     * Starts capturing the device state as of the pause, without waiting for it, so the hypervisor writes
     * it while the epoch loop collects and copies dirty pages. Called right after {@link #pause()}; a
     * driver whose capture is quick leaves it empty and does everything in {@link #captureDeviceState()}.
     */
    default void beginDeviceStateCapture() {
    }

    /**
     * Device state as of the pause, as bytes the same driver's {@link GuestRestorer} accepts; waits for
     * what {@link #beginDeviceStateCapture()} started, so when it returns the capture is over.
     */
    byte[] captureDeviceState();

    /** Lets the guest run again. */
    void resume();

    @Override
    void close();
}
