package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WorkingSetTest {

    @ParameterizedTest(name = "{0} pages, window {1}")
    @CsvSource({"1, 1", "63, 2", "64, 3", "65, 8", "1000, 1", "1000, 5", "4099, 8"})
    void agreesWithABruteForceWindow(int pageCount, int window) {
        Random random = new Random(pageCount * 131L + window);
        WorkingSet workingSet = new WorkingSet(pageCount, window);
        List<BitSet> history = new ArrayList<>();
        // A hot set dirtied in nearly every epoch over random background writes, so both counts vary.
        BitSet hot = new BitSet();
        for (int p = 0; p < pageCount; p++) {
            if (random.nextDouble() < 0.1) {
                hot.set(p);
            }
        }
        for (int epoch = 0; epoch < 3 * window + 5; epoch++) {
            double density = random.nextDouble() * 0.5;
            BitSet dirty = new BitSet();
            DirtyPageSet set = new DirtyPageSet(pageCount);
            for (int p = 0; p < pageCount; p++) {
                if ((hot.get(p) && random.nextDouble() < 0.95) || random.nextDouble() < density) {
                    dirty.set(p);
                    set.add(p);
                }
            }
            workingSet.record(set);
            history.add(dirty);

            List<BitSet> window0 = history.subList(Math.max(0, history.size() - window), history.size());
            BitSet every = (BitSet) window0.getFirst().clone();
            BitSet any = new BitSet();
            for (BitSet b : window0) {
                every.and(b);
                any.or(b);
            }
            assertThat(workingSet.epochsInWindow()).isEqualTo(window0.size());
            assertThat(workingSet.pagesInEveryEpoch()).as("epoch %d: intersection", epoch).isEqualTo(every.cardinality());
            assertThat(workingSet.pagesInAnyEpoch()).as("epoch %d: union", epoch).isEqualTo(any.cardinality());
        }
    }

    @Test
    void copiesWhatItRecords() {
        WorkingSet workingSet = new WorkingSet(100, 2);
        DirtyPageSet reused = new DirtyPageSet(100);
        reused.add(1);
        reused.add(2);
        workingSet.record(reused);
        reused.clear(); // as a tracker does with the set two collects later
        reused.add(2);
        workingSet.record(reused);
        assertThat(workingSet.pagesInEveryEpoch()).isOne();
        assertThat(workingSet.pagesInAnyEpoch()).isEqualTo(2);
    }

    @Test
    void emptyAndReset() {
        WorkingSet workingSet = new WorkingSet(70, 3);
        assertThat(workingSet.windowEpochs()).isEqualTo(3);
        assertThat(workingSet.epochsInWindow()).isZero();
        assertThat(workingSet.pagesInEveryEpoch()).isZero();
        assertThat(workingSet.pagesInAnyEpoch()).isZero();

        workingSet.record(DirtyPageSet.all(70));
        assertThat(workingSet.pagesInEveryEpoch()).isEqualTo(70);
        workingSet.record(new DirtyPageSet(70));
        assertThat(workingSet.pagesInEveryEpoch()).isZero();
        assertThat(workingSet.pagesInAnyEpoch()).isEqualTo(70);

        workingSet.reset();
        assertThat(workingSet.epochsInWindow()).isZero();
        assertThat(workingSet.pagesInAnyEpoch()).isZero();
        DirtyPageSet one = new DirtyPageSet(70);
        one.add(69);
        workingSet.record(one);
        assertThat(workingSet.pagesInEveryEpoch()).as("nothing from before the reset").isOne();
        assertThat(workingSet.pagesInAnyEpoch()).isOne();
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> new WorkingSet(10, 0)).isInstanceOf(IllegalArgumentException.class);
        WorkingSet workingSet = new WorkingSet(10, 2);
        assertThatThrownBy(() -> workingSet.record(new DirtyPageSet(11))).isInstanceOf(IllegalArgumentException.class);
    }
}
