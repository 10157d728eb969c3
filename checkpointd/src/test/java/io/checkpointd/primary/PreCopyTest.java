package io.checkpointd.primary;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.config.PreCopyConfig;
import org.junit.jupiter.api.Test;

/** The pre-copy stop rules, each on its own. */
class PreCopyTest {
    private static final long RAM_PAGES = 100_000;

    private static PreCopy afterRounds(PreCopyConfig rules, long... laterRounds) {
        PreCopy p = new PreCopy(1, 1, RAM_PAGES, rules);
        p.submitted(RAM_PAGES);
        for (long pages : laterRounds) {
            p.submitted(pages);
        }
        return p;
    }

    @Test
    void xenRules() {
        PreCopyConfig xen = PreCopyConfig.defaults().withSigmaBand(0, 5, 0, 0);
        assertThat(afterRounds(xen).stopReason(49)).contains("fewer than 50");
        assertThat(afterRounds(xen).stopReason(50)).isNull();
        assertThat(afterRounds(xen, new long[28]).stopReason(1000)).isEqualTo("29 rounds");
        assertThat(afterRounds(xen, 100_000, 90_000).stopReason(20_000)).contains("3x RAM");
    }

    @Test
    void statisticalRuleStopsOnceRecentRoundsSettleFromRoundTenOn() {
        PreCopyConfig rules = PreCopyConfig.defaults();
        // A big early round, then a plateau varying by about 200 pages around 5000.
        long[] early = {40_000, 5200, 4800, 5100, 4900, 5300, 4700, 5000};
        assertThat(afterRounds(rules, early).stopReason(5000)).as("round 9: the rule waits for round 10").isNull();
        long[] ten = {40_000, 5200, 4800, 5100, 4900, 5300, 4700, 5000, 5200};
        assertThat(afterRounds(rules, ten).stopReason(5000))
                .as("the last 5 rounds settled, however large round 2 was").contains("stopped shrinking");
        // A dirty set still shrinking fast has a spread far above the band: keep going.
        long[] shrinking = {40_000, 20_000, 10_000, 5000, 2500, 1200, 600, 300, 150};
        assertThat(afterRounds(rules, shrinking).stopReason(100)).isNull();
        // Perfectly flat: stopped shrinking.
        long[] flat = {3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000};
        assertThat(afterRounds(rules, flat).stopReason(3000)).contains("sigma 0");
    }

    @Test
    void seed001sBandLeavesAFlatProfileToTheOtherRules() {
        PreCopyConfig paper = PreCopyConfig.defaults().withSigmaBand(10, 5, 150, 300);
        long[] flat = {3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000};
        assertThat(afterRounds(paper, flat).stopReason(3000)).isNull();
        long[] wobbly = {9000, 3200, 2800, 3300, 2700, 3200, 2800, 3300, 2700};
        assertThat(afterRounds(paper, wobbly).stopReason(3000)).contains("stopped shrinking");
    }

    @Test
    void theStatisticalRuleCanBeTurnedOff() {
        long[] ten = {40_000, 5200, 4800, 5100, 4900, 5300, 4700, 5000, 5200};
        assertThat(afterRounds(PreCopyConfig.defaults().withSigmaBand(0, 5, 0, 300), ten).stopReason(5000)).isNull();
    }
}
