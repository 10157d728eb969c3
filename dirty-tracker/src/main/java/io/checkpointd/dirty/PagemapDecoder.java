package io.checkpointd.dirty;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Turns entries of {@code /proc/PID/pagemap} into guest pages whose soft-dirty bit is set.
 *
 * <p>The file holds one 64-bit entry per 4 KiB page of the process's virtual address space, in host byte
 * order (little-endian on x86-64): the entry of address {@code a} is at file offset
 * {@code a / 4096 * 8}. Layout of an entry (Linux Documentation/admin-guide/mm/pagemap.rst):
 * <pre>
 *  bit 63   62   61   60-59  58   57   56   55   54 ...................... 0
 *     +----+----+----+------+----+----+----+----+---------------------------+
 *     | P  | S  | F  |  0   | G  | W  | E  | D  | PFN if P, swap entry if S |
 *     +----+----+----+------+----+----+----+----+---------------------------+
 * P present; S swapped; F file page or shared anonymous; G guard region; W userfaultfd write-protected;
 * E exclusively mapped; D soft-dirty. The PFN reads as 0 without CAP_SYS_ADMIN.
 * </pre>
 * Only D matters here. A swapped-out page keeps its soft-dirty bit in the swap entry, so P and S say
 * nothing about whether the page was written; they are ignored.
 */
public final class PagemapDecoder {
    /** Bytes of one pagemap entry. */
    public static final int ENTRY_BYTES = Long.BYTES;
    /** The page size pagemap counts in: the kernel's base page, 4 KiB on x86-64. */
    public static final int KERNEL_PAGE_BYTES = 4096;
    /** Bit 55: the page was written since soft-dirty bits were last cleared. */
    public static final long SOFT_DIRTY = 1L << 55;

    private PagemapDecoder() {
    }

    /**
     * Adds to {@code into} every guest page with at least one soft-dirty entry among its
     * {@code entriesPerPage} entries (one per 4 KiB kernel page).
     *
     * @param entries the entries of the guest's range from its position to its limit, in native byte order;
     *     exactly {@code into.pageCount() * entriesPerPage} of them. Read with absolute gets: the position
     *     does not move.
     * @param entriesPerPage the guest page size divided by {@link #KERNEL_PAGE_BYTES}, {@code >= 1}
     */
    public static void addSoftDirtyPages(ByteBuffer entries, int entriesPerPage, DirtyPageSet into) {
        if (entriesPerPage < 1) {
            throw new IllegalArgumentException("entriesPerPage must be >= 1: " + entriesPerPage);
        }
        if (entries.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("pagemap entries are in native byte order; buffer is " + entries.order());
        }
        long expectedBytes = into.pageCount() * entriesPerPage * ENTRY_BYTES;
        if (entries.remaining() != expectedBytes) {
            throw new IllegalArgumentException("expected " + expectedBytes + " bytes of entries for "
                    + into.pageCount() + " pages, got " + entries.remaining());
        }
        int index = entries.position();
        int pageBytes = entriesPerPage * ENTRY_BYTES;
        for (long page = 0; page < into.pageCount(); page++, index += pageBytes) {
            for (int offset = index, end = index + pageBytes; offset < end; offset += ENTRY_BYTES) {
                if ((entries.getLong(offset) & SOFT_DIRTY) != 0) {
                    into.add(page);
                    break;
                }
            }
        }
    }
}
