package io.checkpointd.sim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Where the sim guest's key-value service keeps its state in guest RAM. Everything the service knows is
 * here, so a replica of the RAM holds the service's state and nothing else is needed to restart it.
 *
 * <pre>
 * offset 0            page 0: header
 *   0  int64 magic "CKPTDKV1"
 *   8  int64 key count
 *  16  int64 requests served (the service's own counter)
 * offset pageSize     slots, 64 bytes each (64 per 4 KiB page, so neighbouring keys share pages):
 *   0  int64 value       last value written by SET
 *   8  int64 writes      how many SETs this key has seen
 * after the slots     the dirtying workload's region, to the end of RAM
 * </pre>
 */
public final class KvLayout {
    public static final long MAGIC = 0x434B5054444B5631L; // "CKPTDKV1" in ASCII
    static final long MAGIC_OFFSET = 0;
    static final long KEY_COUNT_OFFSET = 8;
    static final long SERVED_OFFSET = 16;
    public static final int SLOT_BYTES = 64;
    private static final long VALUE_IN_SLOT = 0;
    private static final long WRITES_IN_SLOT = 8;

    private final int pageSizeBytes;
    private final int keys;

    public KvLayout(int pageSizeBytes, int keys) {
        this.pageSizeBytes = pageSizeBytes;
        this.keys = keys;
    }

    public int keys() {
        return keys;
    }

    /** Bytes used by the header page and the slots, rounded up to whole pages. */
    public long regionBytes() {
        long slotBytes = (long) keys * SLOT_BYTES;
        long slotPages = (slotBytes + pageSizeBytes - 1) / pageSizeBytes;
        return (1 + slotPages) * pageSizeBytes;
    }

    public long slotOffset(int key) {
        if (key < 0 || key >= keys) {
            throw new IndexOutOfBoundsException("key " + key + " outside [0, " + keys + ")");
        }
        return pageSizeBytes + (long) key * SLOT_BYTES;
    }

    public long valueOf(MemorySegment ram, int key) {
        return ram.get(ValueLayout.JAVA_LONG, slotOffset(key) + VALUE_IN_SLOT);
    }

    public long writesOf(MemorySegment ram, int key) {
        return ram.get(ValueLayout.JAVA_LONG, slotOffset(key) + WRITES_IN_SLOT);
    }

    void set(MemorySegment ram, int key, long value) {
        long slot = slotOffset(key);
        ram.set(ValueLayout.JAVA_LONG, slot + VALUE_IN_SLOT, value);
        ram.set(ValueLayout.JAVA_LONG, slot + WRITES_IN_SLOT, ram.get(ValueLayout.JAVA_LONG, slot + WRITES_IN_SLOT) + 1);
    }

    /** Writes the header if the RAM does not hold one yet; a restored RAM keeps its state. */
    void format(MemorySegment ram) {
        if (isFormatted(ram)) {
            long stored = ram.get(ValueLayout.JAVA_LONG, KEY_COUNT_OFFSET);
            if (stored != keys) {
                throw new IllegalStateException("guest RAM holds " + stored + " keys but the service is configured for " + keys);
            }
            return;
        }
        ram.set(ValueLayout.JAVA_LONG, MAGIC_OFFSET, MAGIC);
        ram.set(ValueLayout.JAVA_LONG, KEY_COUNT_OFFSET, keys);
        ram.set(ValueLayout.JAVA_LONG, SERVED_OFFSET, 0);
    }

    public boolean isFormatted(MemorySegment ram) {
        return ram.get(ValueLayout.JAVA_LONG, MAGIC_OFFSET) == MAGIC;
    }

    public long served(MemorySegment ram) {
        return ram.get(ValueLayout.JAVA_LONG, SERVED_OFFSET);
    }

    void countServed(MemorySegment ram) {
        ram.set(ValueLayout.JAVA_LONG, SERVED_OFFSET, ram.get(ValueLayout.JAVA_LONG, SERVED_OFFSET) + 1);
    }
}
