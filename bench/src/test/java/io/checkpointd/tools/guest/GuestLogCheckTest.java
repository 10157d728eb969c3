package io.checkpointd.tools.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.checkpointd.tools.guest.Violations.Kind;
import java.lang.foreign.MemorySegment;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class GuestLogCheckTest {
    private static final int SLOTS = 64;

    /** The log of {@code count} SETs cycling over {@code keys} keys, each key counting 1, 2, 3, ... */
    private static LogImage cleanLog(int count, int keys) {
        LogImage image = new LogImage(SLOTS);
        for (int s = 0; s < count; s++) {
            image.set(s, s % keys, s / keys + 1);
        }
        return image;
    }

    private static SortedMap<Integer, Long> acked(long... keyValuePairs) {
        SortedMap<Integer, Long> acked = new TreeMap<>();
        for (int i = 0; i < keyValuePairs.length; i += 2) {
            acked.put((int) keyValuePairs[i], keyValuePairs[i + 1]);
        }
        return acked;
    }

    private static GuestLogCheck.Report check(LogImage image, SortedMap<Integer, Long> acked) {
        return GuestLogCheck.check(image.log(), acked);
    }

    private static String messages(GuestLogCheck.Report r) {
        return r.violations().examples().toString();
    }

    @Test
    void aCleanLogHasNoViolations() {
        // keys 0..3 end at values 5, 5, 5, 5 after 20 SETs
        GuestLogCheck.Report r = check(cleanLog(20, 4), acked(0, 5, 1, 5, 2, 5, 3, 5));
        assertThat(r.violations().total()).as(messages(r)).isZero();
        assertThat(r.records()).isEqualTo(20);
        assertThat(r.highestSequence()).isEqualTo(19);
        assertThat(r.keys()).isEqualTo(4);
        assertThat(r.ackedKeys()).isEqualTo(4);
        assertThat(r.wrapped()).isFalse();
        assertThat(r.slots()).isEqualTo(SLOTS);
    }

    @Test
    void anEmptyImageIsAnEmptyLog() {
        GuestLogCheck.Report r = check(new LogImage(SLOTS), null);
        assertThat(r.violations().total()).isZero();
        assertThat(r.records()).isZero();
        assertThat(r.highestSequence()).isEqualTo(-1);
    }

    @Test
    void aHoleIsReportedWhereTheLogEndsAndEveryRecordAfterItIsAStray() {
        GuestLogCheck.Report r = check(cleanLog(10, 2).clear(5), null);
        assertThat(r.records()).isEqualTo(5);
        assertThat(r.highestSequence()).isEqualTo(4);
        assertThat(r.violations().count(Kind.HOLE)).isEqualTo(1);
        assertThat(r.violations().count(Kind.STRAY)).isEqualTo(4);
        Violations.Violation hole = r.violations().examples().getFirst();
        assertThat(hole.kind()).isEqualTo(Kind.HOLE);
        assertThat(hole.offsetBytes()).isEqualTo(5 * 64);
        assertThat(hole.message()).contains("no record with sequence 5 at offset 320");
    }

    @Test
    void aRecordAfterTheEndOfTheLogIsAStray() {
        // Slot 10 holds sequence 11: the SET of sequence 10 never reached this disk, a later one did.
        GuestLogCheck.Report r = check(cleanLog(10, 2).record(10, 11, 0, 6), null);
        assertThat(r.records()).isEqualTo(10);
        assertThat(r.violations().total()).isEqualTo(1);
        assertThat(r.violations().examples().getFirst()).isEqualTo(new Violations.Violation(Kind.STRAY, 640,
                "record at offset 640 has sequence 11 after the end of the log at 10"));
    }

    @Test
    void aStrayFarAfterTheEndAlsoShowsTheHoleBeforeIt() {
        GuestLogCheck.Report r = check(cleanLog(10, 2).set(20, 0, 11), null);
        assertThat(r.violations().byKind()).containsOnlyKeys(Kind.HOLE, Kind.STRAY);
        assertThat(messages(r)).contains("record at offset 1280 has sequence 20 after the end of the log at 10");
    }

    @Test
    void badMagicInTheMiddleEndsTheLogThere() {
        LogImage image = cleanLog(10, 2).putByte(5 * 64, 0x43); // "Ckptlog1"
        GuestLogCheck.Report r = check(image, null);
        assertThat(r.records()).isEqualTo(5);
        assertThat(r.violations().count(Kind.BAD_MAGIC)).isEqualTo(1);
        assertThat(r.violations().count(Kind.STRAY)).isEqualTo(4);
        assertThat(r.violations().examples().getFirst().message())
                .isEqualTo("offset 320 holds no log record: magic 0x436b70746c6f6731, not 0x636b70746c6f6731 (\"ckptlog1\")");
    }

    @Test
    void garbageAfterTheEndIsReported() {
        GuestLogCheck.Report r = check(cleanLog(10, 2).putByte(40 * 64 + 20, 1), null);
        assertThat(r.violations().byKind()).containsOnlyKeys(Kind.HOLE, Kind.BAD_MAGIC);
    }

    @Test
    void aRepeatedSequenceIsADuplicate() {
        GuestLogCheck.Report r = check(cleanLog(10, 2).record(10, 3, 1, 2), null);
        assertThat(r.violations().examples()).containsExactly(new Violations.Violation(Kind.DUPLICATE, 640,
                "record at offset 640 repeats sequence 3, already at offset 192"));
    }

    @Test
    void nonZeroPaddingIsReportedButTheRecordCounts() {
        GuestLogCheck.Report r = check(cleanLog(10, 2).putByte(3 * 64 + 40, 7), null);
        assertThat(r.records()).isEqualTo(10);
        assertThat(r.violations().examples()).singleElement().satisfies(v -> {
            assertThat(v.kind()).isEqualTo(Kind.PADDING);
            assertThat(v.offsetBytes()).isEqualTo(192);
        });
    }

    @Test
    void anAcknowledgedValueWithoutARecordIsMissing() {
        // key 7: 1, 2, 4 on disk; the client had 4 acknowledged, so 3 was acknowledged too
        LogImage image = new LogImage(SLOTS).set(0, 7, 1).set(1, 7, 2).set(2, 7, 4);
        GuestLogCheck.Report r = check(image, acked(7, 4));
        assertThat(r.violations().examples()).singleElement().satisfies(v -> {
            assertThat(v.kind()).isEqualTo(Kind.ACKED_MISSING);
            assertThat(v.offsetBytes()).isEqualTo(128);
            assertThat(v.message()).startsWith("key 7: acknowledged value 3 has no record");
        });
    }

    @Test
    void anAcknowledgedKeyWithNoRecordAtAllIsMissing() {
        GuestLogCheck.Report r = check(cleanLog(4, 2), acked(0, 2, 1, 2, 9, 1));
        assertThat(r.violations().examples()).containsExactly(new Violations.Violation(Kind.ACKED_MISSING, -1,
                "key 9: acknowledged value 1, but the log has no record of key 9"));
    }

    @Test
    void aKeyEndingOlderThanAcknowledgedLostAWrite() {
        GuestLogCheck.Report r = check(cleanLog(4, 2), acked(0, 3, 1, 2));
        assertThat(r.violations().examples()).singleElement().satisfies(v -> {
            assertThat(v.kind()).isEqualTo(Kind.ACKED_LOST);
            assertThat(v.message()).isEqualTo("key 0: the last record (offset 128, sequence 2) has value 2, older than"
                    + " the acknowledged 3");
        });
    }

    @Test
    void aValueGoingBackwardsIsAViolation() {
        LogImage image = new LogImage(SLOTS).set(0, 1, 1).set(1, 1, 2).set(2, 1, 3).set(3, 1, 2).set(4, 1, 4);
        GuestLogCheck.Report r = check(image, acked(1, 4));
        assertThat(r.violations().examples()).singleElement().satisfies(v -> {
            assertThat(v.kind()).isEqualTo(Kind.VALUE_BACKWARDS);
            assertThat(v.offsetBytes()).isEqualTo(192);
            assertThat(v.message()).contains("has value 2, below the value 3 of sequence 2");
        });
    }

    @Test
    void aRetriedSetAppliedTwiceAndAnUnacknowledgedNewerValueAreAllowed() {
        // 2 logged twice (its reply was lost, the retry applied it again); 4 applied but never acknowledged
        LogImage image = new LogImage(SLOTS).set(0, 1, 1).set(1, 1, 2).set(2, 1, 2).set(3, 1, 3).set(4, 1, 4);
        GuestLogCheck.Report r = check(image, acked(1, 3));
        assertThat(r.violations().total()).as(messages(r)).isZero();
    }

    @Test
    void aWrappedLogHoldsTheLastLapInEverySlot() {
        LogImage image = new LogImage(8);
        for (int s = 0; s <= 12; s++) {
            image.set(s, s % 3, s / 3 + 1);
        }
        GuestLogCheck.Report r = check(image, null);
        assertThat(r.violations().total()).as(messages(r)).isZero();
        assertThat(r.wrapped()).isTrue();
        assertThat(r.records()).isEqualTo(8);
        assertThat(r.highestSequence()).isEqualTo(12);
    }

    @Test
    void aWrappedLogWithAnEmptyOrStaleSlotHasAHole() {
        // 21 SETs in 8 slots: the newest lap (16..20) in slots 0..4, the previous one (13..15) in slots 5..7.
        LogImage image = new LogImage(8);
        for (int s = 0; s <= 20; s++) {
            image.set(s, 0, s + 1);
        }
        image.clear(5).record(6, 6, 0, 7); // 13 never written; 14 never overwrote 6
        GuestLogCheck.Report r = check(image, null);
        assertThat(r.wrapped()).isTrue();
        assertThat(r.records()).isEqualTo(6);
        assertThat(r.violations().count(Kind.HOLE)).isEqualTo(2);
        assertThat(messages(r)).contains("no record with sequence 13 at offset 320 (the log wrapped")
                .contains("record at offset 384 has sequence 6 where sequence 14 should have overwritten it");
    }

    @Test
    void acknowledgedWritesCannotBeCheckedOnceTheLogWrapped() {
        LogImage image = new LogImage(8);
        for (int s = 0; s <= 8; s++) {
            image.set(s, 0, s + 1);
        }
        assertThatThrownBy(() -> check(image, acked(0, 9))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the log wrapped round").hasMessageContaining("check without --acked");
    }

    @Test
    void onlyTheFirstFewViolationsAreKeptButAllAreCounted() {
        LogImage image = cleanLog(40, 4).clear(0);
        GuestLogCheck.Report r = check(image, null);
        assertThat(r.violations().count(Kind.STRAY)).isEqualTo(39);
        assertThat(r.violations().total()).isEqualTo(40); // and the hole at sequence 0
        assertThat(r.violations().examples()).hasSize(10);
    }

    @Test
    void anImageTooSmallOrInQcow2FormatIsRefused() {
        assertThatThrownBy(() -> new GuestLog(MemorySegment.ofArray(new byte[63])))
                .hasMessageContaining("too small for one 64-byte log record");
        byte[] qcow2 = new byte[4096];
        qcow2[0] = 'Q';
        qcow2[1] = 'F';
        qcow2[2] = 'I';
        qcow2[3] = (byte) 0xfb;
        assertThatThrownBy(() -> new GuestLog(MemorySegment.ofArray(qcow2))).hasMessageContaining("qemu-img convert");
    }
}
