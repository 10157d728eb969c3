package io.checkpointd.testing;

import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.ExactTracker;
import io.checkpointd.driver.GuestMemory;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.util.MappedFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A guest the test writes to itself, between checkpoints, so the exact memory at every checkpoint is
 * known. Records the order of pause/capture/resume calls.
 */
public final class TestDomain implements ProtectedDomain {
    private final Arena arena = Arena.ofShared();
    private final GuestMemory memory;
    private final ExactTracker tracker;
    private final List<String> events = new ArrayList<>();
    private boolean paused;
    private int captures;

    public TestDomain(Path ramFile, long ramBytes, int pageSizeBytes) {
        try {
            MemorySegment ram = MappedFiles.mapReadWrite(ramFile, ramBytes, arena);
            memory = new GuestMemory(ram, ramFile, pageSizeBytes);
            tracker = new ExactTracker(memory.pageCount());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The guest writes {@code value} at a random place of {@code page}. */
    public void write(long page, long value, SplittableRandom random) {
        if (paused) {
            throw new IllegalStateException("the guest is paused");
        }
        long slot = random.nextInt(memory.pageSizeBytes() / Long.BYTES);
        memory.segment().set(ValueLayout.JAVA_LONG, page * memory.pageSizeBytes() + slot * Long.BYTES, value);
        tracker.markDirty(page);
    }

    /** The guest stores {@code value} in the first word of {@code page}. */
    public void set(long page, long value) {
        if (paused) {
            throw new IllegalStateException("the guest is paused");
        }
        memory.segment().set(ValueLayout.JAVA_LONG, page * memory.pageSizeBytes(), value);
        tracker.markDirty(page);
    }

    /** Writes {@code count} random pages. */
    public void writeRandomPages(int count, SplittableRandom random) {
        for (int i = 0; i < count; i++) {
            write(random.nextLong(memory.pageCount()), random.nextLong(), random);
        }
    }

    /** A copy of the whole RAM as it is now. */
    public byte[] snapshot() {
        return memory.segment().toArray(ValueLayout.JAVA_BYTE);
    }

    public List<String> events() {
        return events;
    }

    public void recordEvent(String event) {
        events.add(event);
    }

    public boolean isPaused() {
        return paused;
    }

    @Override
    public String name() {
        return "test";
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
        paused = true;
        events.add("pause");
    }

    @Override
    public byte[] captureDeviceState() {
        events.add("capture");
        return ("device-state-" + (++captures)).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Override
    public void resume() {
        paused = false;
        events.add("resume");
    }

    @Override
    public void close() {
        arena.close();
    }
}
