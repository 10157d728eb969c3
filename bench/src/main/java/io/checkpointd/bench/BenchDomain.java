package io.checkpointd.bench;

import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.ExactTracker;
import io.checkpointd.driver.GuestMemory;
import io.checkpointd.driver.ProtectedDomain;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * A guest with no CPUs of its own: pausing and resuming it cost nothing, so a checkpoint of it costs only
 * what the daemon does. The benchmark plays the guest, writing pages through {@link #write(long, int)}
 * between checkpoints the way the sim workload does.
 */
public final class BenchDomain implements ProtectedDomain {
    /** About what the sim guest's device state takes; a QEMU guest's is hundreds of KiB. */
    private static final int DEVICE_STATE_BYTES = 64;

    private final Arena arena = Arena.ofShared();
    private final GuestMemory memory;
    private final ExactTracker tracker;
    private final byte[] deviceState = new byte[DEVICE_STATE_BYTES];

    public BenchDomain(long ramBytes) {
        MemorySegment ram = GuestRam.allocate(arena, ramBytes);
        this.memory = new GuestMemory(ram, Path.of("(anonymous memory)"), GuestRam.PAGE_SIZE_BYTES);
        this.tracker = new ExactTracker(memory.pageCount());
    }

    /** Increments the 8-byte word {@code wordInPage} of {@code page} and reports the write, as a guest CPU would. */
    public void write(long page, int wordInPage) {
        long offset = page * GuestRam.PAGE_SIZE_BYTES + (long) wordInPage * Long.BYTES;
        MemorySegment ram = memory.segment();
        ram.set(ValueLayout.JAVA_LONG, offset, ram.get(ValueLayout.JAVA_LONG, offset) + 1);
        tracker.markDirty(page);
    }

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public DirtyTracker dirtyTracker() {
        return tracker;
    }

    @Override
    public void pause() {
    }

    /** The same array every time: the daemon only reads it. */
    @Override
    public byte[] captureDeviceState() {
        return deviceState;
    }

    @Override
    public void resume() {
    }

    @Override
    public void close() {
        arena.close();
    }
}
