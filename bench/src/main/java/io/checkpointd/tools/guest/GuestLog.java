package io.checkpointd.tools.guest;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The log the guest's service ({@code guest/service.c}) appends to its disk, one record per SET, read from a
 * raw image of that disk. The image is divided into {@code size / 64} slots; the record of the SET with
 * sequence {@code s} goes to slot {@code s mod slots}, so the log wraps round once it fills the disk.
 *
 * <pre>
 * record (64 bytes, big-endian)
 *  0 int64 magic "ckptlog1"
 *  8 int64 sequence (0 for the first SET)
 * 16 int32 key
 * 20 int64 value
 * 28 zero padding to 64
 * </pre>
 *
 * A slot never written is all zeros (the image starts zeroed). This class only decodes slots; what makes
 * a log valid is {@link GuestLogCheck}'s business.
 */
public final class GuestLog {
    public static final int RECORD_BYTES = 64;
    public static final long MAGIC = 0x636b70746c6f6731L; // "ckptlog1"
    static final long MAGIC_OFFSET = 0;
    static final long SEQUENCE_OFFSET = 8;
    static final long KEY_OFFSET = 16;
    static final long VALUE_OFFSET = 20;
    static final long PADDING_OFFSET = 28;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[RECORD_BYTES]);
    private static final long QCOW2_MAGIC = 0x514649fbL; // "QFI\xfb", the first four bytes of a qcow2 image

    /** What a slot holds. */
    public enum Content { EMPTY, RECORD, NOT_A_RECORD }

    /**
     * One slot, decoded.
     *
     * @param magic        the first eight bytes, whatever they are
     * @param paddingClean whether bytes 28 to 63 are zero (meaningful for a {@link Content#RECORD})
     */
    public record Slot(long index, Content content, long magic, long sequence, int key, long value,
                       boolean paddingClean) {
        public long offsetBytes() {
            return index * RECORD_BYTES;
        }
    }

    private final MemorySegment image;
    private final long slotCount;

    /**
     * @param image the disk's bytes; a tail shorter than a record is ignored, as the service ignores it
     * @throws IllegalArgumentException if the image cannot hold one record, or is a qcow2 image
     */
    public GuestLog(MemorySegment image) {
        if (image.byteSize() < RECORD_BYTES) {
            throw new IllegalArgumentException("the image is " + image.byteSize() + " bytes, too small for one "
                    + RECORD_BYTES + "-byte log record (the service keeps no log on such a disk)");
        }
        if (image.get(INT, 0) == (int) QCOW2_MAGIC) {
            throw new IllegalArgumentException("this is a qcow2 image, not a raw one; convert it first with "
                    + "qemu-img convert -O raw IMAGE IMAGE.raw");
        }
        this.image = image;
        this.slotCount = image.byteSize() / RECORD_BYTES;
    }

    public long slotCount() {
        return slotCount;
    }

    public Slot slot(long index) {
        if (index < 0 || index >= slotCount) {
            throw new IndexOutOfBoundsException("slot " + index + " outside [0, " + slotCount + ")");
        }
        long base = index * RECORD_BYTES;
        long magic = image.get(LONG, base + MAGIC_OFFSET);
        boolean paddingClean = zero(base + PADDING_OFFSET, RECORD_BYTES - PADDING_OFFSET);
        if (magic != MAGIC) {
            Content content = magic == 0 && paddingClean && zero(base + SEQUENCE_OFFSET, PADDING_OFFSET - SEQUENCE_OFFSET)
                    ? Content.EMPTY : Content.NOT_A_RECORD;
            return new Slot(index, content, magic, 0, 0, 0, paddingClean);
        }
        return new Slot(index, Content.RECORD, magic, image.get(LONG, base + SEQUENCE_OFFSET),
                image.get(INT, base + KEY_OFFSET), image.get(LONG, base + VALUE_OFFSET), paddingClean);
    }

    private boolean zero(long offset, long length) {
        return MemorySegment.mismatch(image, offset, offset + length, ZEROS, 0, length) < 0;
    }
}
