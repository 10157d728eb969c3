package io.checkpointd.disk;

import java.util.Arrays;
import java.util.Objects;

/**
 * One change to a disk image, as the guest made it through NBD and as the backup replays it.
 *
 * <p>{@link Kind#WRITE} carries its bytes; {@link Kind#TRIM} and {@link Kind#ZEROES} carry none and leave
 * the range reading as zeroes. NBD lets a server do anything with a trimmed range, but the primary and the
 * replica must stay byte-identical, so both sides zero it (deallocating where the filesystem can, see
 * {@link ImageZeroer}).
 *
 * <p>The {@code data} array is not copied: whoever builds a {@code DiskWrite} hands the array over and
 * does not change it afterwards.
 *
 * @param kind   what the change does
 * @param offset first byte of the range, {@code >= 0}
 * @param length bytes in the range, {@code >= 0}; equals {@code data.length} for a WRITE
 * @param data   the bytes of a WRITE; null for TRIM and ZEROES
 */
public record DiskWrite(Kind kind, long offset, long length, byte[] data) {
    /**
     * What a record costs in memory besides its data (object headers, the list slot), counted so that
     * many small trims are bounded like a few large writes.
     */
    public static final int RECORD_OVERHEAD_BYTES = 64;

    public enum Kind { WRITE, TRIM, ZEROES }

    public DiskWrite {
        Objects.requireNonNull(kind, "kind");
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length: offset " + offset + ", length " + length);
        }
        if (kind == Kind.WRITE) {
            Objects.requireNonNull(data, "data of a WRITE");
            if (data.length != length) {
                throw new IllegalArgumentException("WRITE length " + length + " but " + data.length + " data bytes");
            }
        } else if (data != null) {
            throw new IllegalArgumentException(kind + " carries no data");
        }
    }

    public static DiskWrite write(long offset, byte[] data) {
        return new DiskWrite(Kind.WRITE, offset, data.length, data);
    }

    public static DiskWrite trim(long offset, long length) {
        return new DiskWrite(Kind.TRIM, offset, length, null);
    }

    public static DiskWrite zeroes(long offset, long length) {
        return new DiskWrite(Kind.ZEROES, offset, length, null);
    }

    /** The first byte after the range (never overflows: both parts are non-negative longs below 2^63). */
    public long end() {
        return offset + length;
    }

    /** Bytes of data carried: {@code length} for a WRITE, 0 otherwise. */
    public int dataBytes() {
        return data == null ? 0 : data.length;
    }

    /** What holding this record in memory costs, for the byte budgets of the write log and the replica. */
    public long heldBytes() {
        return RECORD_OVERHEAD_BYTES + (long) dataBytes();
    }

    /**
     * @throws IllegalArgumentException if the range does not lie within a disk of {@code sizeBytes}
     */
    public void checkWithin(long sizeBytes) {
        if (offset > sizeBytes || length > sizeBytes - offset) {
            throw new IllegalArgumentException(kind + " of " + length + " bytes at offset " + offset
                    + " lies outside the " + sizeBytes + "-byte disk");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DiskWrite w && kind == w.kind && offset == w.offset && length == w.length
                && Arrays.equals(data, w.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, offset, length) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return kind + "[offset=" + offset + ", length=" + length + "]";
    }
}
