package io.checkpointd.tools.guest;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/** A hand-built disk image holding guest/service.c's log: records placed slot by slot, as the service writes them. */
public final class LogImage {
    private final ByteBuffer bytes;

    public LogImage(int slots) {
        this.bytes = ByteBuffer.allocate(slots * GuestLog.RECORD_BYTES);
    }

    /** Writes the record of {@code sequence} where the service puts it. */
    public LogImage set(long sequence, int key, long value) {
        return record(Math.floorMod(sequence, slots()), sequence, key, value);
    }

    /** Writes a record into an arbitrary slot (a misplaced or stale record). */
    public LogImage record(int slot, long sequence, int key, long value) {
        int base = slot * GuestLog.RECORD_BYTES;
        bytes.putLong(base, GuestLog.MAGIC).putLong(base + 8, sequence).putInt(base + 16, key).putLong(base + 20, value);
        return this;
    }

    public LogImage putByte(long offset, int value) {
        bytes.put((int) offset, (byte) value);
        return this;
    }

    public LogImage clear(int slot) {
        bytes.put(slot * GuestLog.RECORD_BYTES, new byte[GuestLog.RECORD_BYTES]);
        return this;
    }

    public int slots() {
        return bytes.capacity() / GuestLog.RECORD_BYTES;
    }

    public GuestLog log() {
        return new GuestLog(MemorySegment.ofArray(bytes.array()));
    }

    public Path writeTo(Path file) throws IOException {
        return Files.write(file, bytes.array());
    }
}
