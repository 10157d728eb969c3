package io.checkpointd.tools.guest;

import io.checkpointd.tools.guest.GuestLog.Content;
import io.checkpointd.tools.guest.GuestLog.Slot;
import io.checkpointd.tools.guest.Violations.Kind;
import java.util.HashSet;
import java.util.Set;
import java.util.SortedMap;

/**
 * Whether a guest's disk holds the log its service would have written: what a backup's disk must look like
 * after a failover if disk mirroring kept every write of every committed checkpoint and nothing else.
 *
 * <p>The log is the run of records from slot 0 holding consecutive sequences; its end is the sequence the
 * next SET would get. Every record must carry the magic and zero padding, and nothing may lie beyond the
 * end: a hole (an empty slot with records after it), a record after the end, a repeated sequence or a
 * non-zero slot without the magic is a violation. Once the log has wrapped round (slot 0 holds sequence
 * {@code slots} or a later multiple), the slots after the newest lap must hold the previous lap, so every
 * slot holds one of the last {@code slots} sequences.
 */
public final class GuestLogCheck {
    private static final int EXAMPLES = 10;

    /**
     * @param slots            records the image has room for
     * @param records          valid records in the log
     * @param highestSequence  the log's last sequence; -1 for an empty log
     * @param keys             distinct keys among the log's records
     * @param wrapped          whether the log wrapped round (its oldest records were overwritten)
     * @param ackedKeys        keys checked against acknowledged values; 0 without them
     */
    public record Report(long slots, long records, long highestSequence, long keys, boolean wrapped, long ackedKeys,
                         Violations violations) {
    }

    private GuestLogCheck() {
    }

    /**
     * Checks {@code log}, and with {@code acked} (key to last acknowledged value; null for none) also the
     * acknowledged writes, as {@link AckedWritesCheck} explains.
     *
     * @throws IllegalArgumentException if {@code acked} is given and the log wrapped: the records that would
     *                                  prove old acknowledged writes were overwritten by the service itself
     */
    public static Report check(GuestLog log, SortedMap<Integer, Long> acked) {
        long slots = log.slotCount();
        Slot first = log.slot(0);
        boolean wrapped = first.content() == Content.RECORD && first.sequence() >= slots && first.sequence() % slots == 0;
        if (wrapped && acked != null) {
            throw new IllegalArgumentException("the log wrapped round (slot 0 holds sequence " + first.sequence()
                    + ", the image has room for " + slots + " records): older records were overwritten, so "
                    + "acknowledged writes cannot be checked; give the guest a disk of at least "
                    + (first.sequence() + 1) * GuestLog.RECORD_BYTES + " bytes, or check without --acked");
        }
        Violations violations = new Violations(EXAMPLES);
        AckedWritesCheck ackedCheck = acked == null ? null : new AckedWritesCheck(acked, violations);
        Set<Integer> keys = new HashSet<>();
        long lapStart = wrapped ? first.sequence() : 0;
        long end = 0;
        for (Slot s = first; s.content() == Content.RECORD && s.sequence() == lapStart + end; s = log.slot(end)) {
            accept(s, keys, violations, ackedCheck);
            if (++end == slots) {
                break;
            }
        }
        long endSequence = lapStart + end; // the sequence the next SET would get
        long records = end;
        if (wrapped) {
            records += checkPreviousLap(log, end, endSequence, keys, violations);
        } else {
            checkNothingAfter(log, end, endSequence, violations);
        }
        if (ackedCheck != null) {
            ackedCheck.finish();
        }
        return new Report(slots, records, endSequence - 1, keys.size(), wrapped, acked == null ? 0 : acked.size(),
                violations);
    }

    private static void accept(Slot record, Set<Integer> keys, Violations violations, AckedWritesCheck ackedCheck) {
        if (!record.paddingClean()) {
            violations.add(Kind.PADDING, record.offsetBytes(), "record at offset " + record.offsetBytes() + " (sequence "
                    + record.sequence() + ") has non-zero bytes in its padding (bytes " + GuestLog.PADDING_OFFSET + " to "
                    + (GuestLog.RECORD_BYTES - 1) + ")");
        }
        keys.add(record.key());
        if (ackedCheck != null) {
            ackedCheck.onRecord(record);
        }
    }

    /** A log that never wrapped ends at slot {@code end}: every slot from there on must be empty. */
    private static void checkNothingAfter(GuestLog log, long end, long endSequence, Violations violations) {
        boolean first = true;
        for (long i = end; i < log.slotCount(); i++) {
            Slot s = log.slot(i);
            if (s.content() == Content.EMPTY) {
                continue;
            }
            if (first && i > end) {
                violations.add(Kind.HOLE, end * GuestLog.RECORD_BYTES, "hole: no record with sequence " + endSequence
                        + " at offset " + end * GuestLog.RECORD_BYTES + ", but the image holds data after it");
            }
            first = false;
            if (s.content() == Content.NOT_A_RECORD) {
                badMagic(s, violations);
            } else if (Long.compareUnsigned(s.sequence(), endSequence) < 0) {
                violations.add(Kind.DUPLICATE, s.offsetBytes(), "record at offset " + s.offsetBytes()
                        + " repeats sequence " + s.sequence() + ", already at offset "
                        + s.sequence() * GuestLog.RECORD_BYTES);
            } else {
                stray(s, endSequence, violations);
            }
        }
    }

    /**
     * After the newest lap (slots before {@code end}) each slot must still hold the previous lap's record.
     *
     * @return how many do
     */
    private static long checkPreviousLap(GuestLog log, long end, long endSequence, Set<Integer> keys,
                                         Violations violations) {
        long slots = log.slotCount();
        long oldest = endSequence - slots;
        long valid = 0;
        for (long i = end; i < slots; i++) {
            Slot s = log.slot(i);
            long expected = endSequence - end - slots + i;
            if (s.content() == Content.RECORD && s.sequence() == expected) {
                accept(s, keys, violations, null);
                valid++;
            } else if (s.content() == Content.EMPTY) {
                violations.add(Kind.HOLE, s.offsetBytes(), "hole: no record with sequence " + expected + " at offset "
                        + s.offsetBytes() + " (the log wrapped, so every slot should hold one of sequences " + oldest
                        + ".." + (endSequence - 1) + ")");
            } else if (s.content() == Content.NOT_A_RECORD) {
                badMagic(s, violations);
            } else if (Long.compareUnsigned(s.sequence(), endSequence) >= 0) {
                stray(s, endSequence, violations);
            } else if (s.sequence() >= oldest) {
                violations.add(Kind.DUPLICATE, s.offsetBytes(), "record at offset " + s.offsetBytes()
                        + " repeats sequence " + s.sequence() + ", whose place is offset "
                        + (s.sequence() % slots) * GuestLog.RECORD_BYTES);
            } else {
                violations.add(Kind.HOLE, s.offsetBytes(), "hole: record at offset " + s.offsetBytes() + " has sequence "
                        + s.sequence() + " where sequence " + expected + " should have overwritten it");
            }
        }
        return valid;
    }

    private static void badMagic(Slot s, Violations violations) {
        violations.add(Kind.BAD_MAGIC, s.offsetBytes(), String.format("offset %d holds no log record: magic 0x%016x,"
                + " not 0x%016x (\"ckptlog1\")", s.offsetBytes(), s.magic(), GuestLog.MAGIC));
    }

    private static void stray(Slot s, long endSequence, Violations violations) {
        violations.add(Kind.STRAY, s.offsetBytes(), "record at offset " + s.offsetBytes() + " has sequence "
                + Long.toUnsignedString(s.sequence()) + " after the end of the log at " + endSequence);
    }
}
