package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;

class DirtyPageSetTest {

    /** A run as {@link DirtyPageSet#forEachRun} reports it. */
    private record Run(long firstPage, long length) {
    }

    private static List<Run> runs(DirtyPageSet set) {
        List<Run> runs = new ArrayList<>();
        set.forEachRun((first, length) -> runs.add(new Run(first, length)));
        return runs;
    }

    private static DirtyPageSet of(long pageCount, long... pages) {
        DirtyPageSet set = new DirtyPageSet(pageCount);
        for (long p : pages) {
            set.add(p);
        }
        return set;
    }

    @Test
    void rejectsPageCountsOutOfRange() {
        assertThatThrownBy(() -> new DirtyPageSet(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DirtyPageSet(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DirtyPageSet((long) Integer.MAX_VALUE * Long.SIZE + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsPagesOutsideTheGuest() {
        DirtyPageSet set = new DirtyPageSet(100);
        assertThatThrownBy(() -> set.add(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> set.add(100)).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("100");
        assertThatThrownBy(() -> set.contains(100)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> set.contains(Long.MIN_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void firstAndLastPages() {
        DirtyPageSet set = of(130, 0, 129);
        assertThat(set.contains(0)).isTrue();
        assertThat(set.contains(1)).isFalse();
        assertThat(set.contains(128)).isFalse();
        assertThat(set.contains(129)).isTrue();
        assertThat(set.count()).isEqualTo(2);
        assertThat(set.nextPage(0)).isZero();
        assertThat(set.nextPage(1)).isEqualTo(129);
        assertThat(set.nextPage(130)).isEqualTo(-1);
        assertThat(set.nextClearPage(0)).isOne();
        assertThat(set.nextClearPage(129)).as("no clear page left: pageCount").isEqualTo(130);
        assertThat(runs(set)).containsExactly(new Run(0, 1), new Run(129, 1));
    }

    @Test
    void wordBoundaries() {
        DirtyPageSet set = of(200, 63, 64, 65);
        assertThat(set.count()).isEqualTo(3);
        assertThat(set.contains(62)).isFalse();
        assertThat(set.contains(66)).isFalse();
        assertThat(set.nextPage(0)).isEqualTo(63);
        assertThat(set.nextPage(64)).isEqualTo(64);
        assertThat(set.nextPage(66)).isEqualTo(-1);
        assertThat(set.nextClearPage(63)).isEqualTo(66);
        assertThat(runs(set)).as("one run across the word boundary").containsExactly(new Run(63, 3));

        DirtyPageSet only64 = of(200, 64);
        assertThat(only64.nextPage(0)).isEqualTo(64);
        assertThat(only64.nextPage(63)).isEqualTo(64);
        assertThat(only64.nextPage(65)).isEqualTo(-1);
        assertThat(only64.nextClearPage(64)).isEqualTo(65);
    }

    @Test
    void aFullWordThenTheNextWord() {
        DirtyPageSet set = new DirtyPageSet(256);
        set.addRange(0, 128);
        assertThat(set.nextClearPage(0)).isEqualTo(128);
        assertThat(set.nextPage(128)).isEqualTo(-1);
        assertThat(runs(set)).containsExactly(new Run(0, 128));
    }

    @Test
    void duplicatesCountOnce() {
        DirtyPageSet set = of(10, 3, 3, 3, 7);
        assertThat(set.count()).isEqualTo(2);
    }

    @Test
    void emptySet() {
        DirtyPageSet set = new DirtyPageSet(65);
        assertThat(set.isEmpty()).isTrue();
        assertThat(set.count()).isZero();
        assertThat(set.nextPage(0)).isEqualTo(-1);
        assertThat(set.nextClearPage(0)).isZero();
        assertThat(set.nextClearPage(64)).isEqualTo(64);
        assertThat(runs(set)).isEmpty();
        set.add(64);
        assertThat(set.isEmpty()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 63, 64, 65, 127, 128, 129, 1000})
    void allHoldsExactlyEveryPage(long pageCount) {
        DirtyPageSet set = DirtyPageSet.all(pageCount);
        assertThat(set.pageCount()).isEqualTo(pageCount);
        assertThat(set.count()).isEqualTo(pageCount);
        assertThat(set.contains(pageCount - 1)).isTrue();
        assertThat(set.nextPage(0)).isZero();
        assertThat(set.nextClearPage(0)).isEqualTo(pageCount);
        assertThat(runs(set)).containsExactly(new Run(0, pageCount));
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 63, 64, 65, 127, 128, 129, 1000, 4099})
    void agreesWithBitSetOnRandomContents(long pageCount) {
        Random random = new Random(pageCount * 31 + 7);
        for (int round = 0; round < 20; round++) {
            // Densities from sparse to nearly full, so both set and clear runs get long.
            double density = random.nextDouble();
            BitSet expected = new BitSet();
            DirtyPageSet set = new DirtyPageSet(pageCount);
            for (int p = 0; p < pageCount; p++) {
                if (random.nextDouble() < density) {
                    expected.set(p);
                    set.add(p);
                }
            }

            assertThat(set.count()).isEqualTo(expected.cardinality());
            assertThat(set.isEmpty()).isEqualTo(expected.isEmpty());
            for (int p = 0; p < pageCount; p++) {
                assertThat(set.contains(p)).isEqualTo(expected.get(p));
                assertThat(set.nextPage(p)).as("nextPage(%d)", p).isEqualTo(expected.nextSetBit(p));
                assertThat(set.nextClearPage(p)).as("nextClearPage(%d)", p)
                        .isEqualTo(Math.min(pageCount, expected.nextClearBit(p)));
            }
            List<Run> expectedRuns = new ArrayList<>();
            for (int start = expected.nextSetBit(0); start >= 0; start = expected.nextSetBit(start)) {
                int end = expected.nextClearBit(start);
                expectedRuns.add(new Run(start, end - start));
                start = end;
            }
            assertThat(runs(set)).containsExactlyElementsOf(expectedRuns);
        }
    }

    @Test
    void addAllUnitesAndClearEmpties() {
        DirtyPageSet a = of(130, 0, 64);
        DirtyPageSet b = of(130, 64, 129);
        a.addAll(b);
        assertThat(runs(a)).containsExactly(new Run(0, 1), new Run(64, 1), new Run(129, 1));
        assertThat(b.count()).as("other is unchanged").isEqualTo(2);

        assertThatThrownBy(() -> a.addAll(new DirtyPageSet(131))).isInstanceOf(IllegalArgumentException.class);

        a.clear();
        assertThat(a.isEmpty()).isTrue();
        assertThat(a.nextPage(0)).isEqualTo(-1);
    }
}
