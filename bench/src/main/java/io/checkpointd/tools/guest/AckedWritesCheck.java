package io.checkpointd.tools.guest;

import io.checkpointd.tools.guest.Violations.Kind;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;

/**
 * Checks a log's records, fed in sequence order, against the values a client had acknowledged (as
 * {@code tools kv-client --acked-out} writes them: the last acknowledged value per key).
 *
 * <p>It relies on that client's workload: per key it writes 1, 2, 3, ... and sends a value only after the
 * previous one was acknowledged. So every value from 1 to the last acknowledged one was acknowledged, and
 * each must have a record. Per key the values on disk never decrease: a value may repeat (a SET whose reply
 * was lost, retried and applied again) but never go back. The key's last record may hold a value <em>newer</em>
 * than the last acknowledged one: after a failover the guest may have applied a SET whose reply the client
 * never got (the client stopped, or gave up, before the retry was answered). It may never hold an older one:
 * that is an acknowledged write the backup's disk does not have.
 */
final class AckedWritesCheck {
    /** The last (highest) record of a key so far. */
    private static final class KeyState {
        long value;
        long sequence;
        long offsetBytes;
    }

    private final SortedMap<Integer, Long> acked;
    private final Violations violations;
    private final Map<Integer, KeyState> keys = new HashMap<>();

    AckedWritesCheck(SortedMap<Integer, Long> acked, Violations violations) {
        this.acked = acked;
        this.violations = violations;
    }

    /** The next record of the log, in sequence order. */
    void onRecord(GuestLog.Slot record) {
        int key = record.key();
        long value = record.value();
        KeyState last = keys.get(key);
        if (last == null) {
            last = new KeyState();
            keys.put(key, last);
            missing(key, 1, record, "as the key's first record");
        } else if (value < last.value) {
            violations.add(Kind.VALUE_BACKWARDS, record.offsetBytes(), "key " + key + ": record at offset "
                    + record.offsetBytes() + " (sequence " + record.sequence() + ") has value " + value
                    + ", below the value " + last.value + " of sequence " + last.sequence + " (offset "
                    + last.offsetBytes + ")");
            return; // keep the highest value as the reference: one step back is one violation, not many
        } else {
            missing(key, last.value + 1, record, "from " + last.value + " at sequence " + last.sequence);
        }
        last.value = value;
        last.sequence = record.sequence();
        last.offsetBytes = record.offsetBytes();
    }

    /** After the last record: every acknowledged key must end at its acknowledged value or later. */
    void finish() {
        for (Map.Entry<Integer, Long> e : acked.entrySet()) {
            KeyState last = keys.get(e.getKey());
            if (last == null) {
                violations.add(Kind.ACKED_MISSING, -1, "key " + e.getKey() + ": acknowledged value " + e.getValue()
                        + ", but the log has no record of key " + e.getKey());
            } else if (last.value < e.getValue()) {
                violations.add(Kind.ACKED_LOST, last.offsetBytes, "key " + e.getKey() + ": the last record (offset "
                        + last.offsetBytes + ", sequence " + last.sequence + ") has value " + last.value
                        + ", older than the acknowledged " + e.getValue());
            }
        }
    }

    /**
     * The key's values from {@code from} up to (not including) {@code next}'s have no record: a violation for
     * the acknowledged ones among them.
     */
    private void missing(int key, long from, GuestLog.Slot next, String jump) {
        Long ackedValue = acked.get(key);
        long to = ackedValue == null ? 0 : Math.min(next.value() - 1, ackedValue);
        if (from > to) {
            return;
        }
        String values = from == to ? "value " + from + " has" : "values " + from + ".." + to + " have";
        violations.add(Kind.ACKED_MISSING, next.offsetBytes(), "key " + key + ": acknowledged " + values
                + " no record (the record at offset " + next.offsetBytes() + ", sequence " + next.sequence()
                + ", jumps to value " + next.value() + " " + jump + ")");
    }
}
