package io.checkpointd.tools.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LongestGapTest {
    @Test
    void theLongestStretchBetweenAnswersIsKeptWithItsEnds() {
        LongestGap gaps = new LongestGap(1_000);
        gaps.onAnswer(1_010);
        gaps.onAnswer(1_500); // 490
        gaps.onAnswer(1_600);
        gaps.onAnswer(1_700);
        assertThat(gaps.longest(1_750)).isEqualTo(new LongestGap.Gap(1_010, 1_500, true));
        assertThat(gaps.longest(1_750).lengthNs()).isEqualTo(490);
    }

    @Test
    void theWaitForTheFirstAnswerCounts() {
        LongestGap gaps = new LongestGap(0);
        gaps.onAnswer(800);
        gaps.onAnswer(900);
        assertThat(gaps.longest(1_000)).isEqualTo(new LongestGap.Gap(0, 800, true));
    }

    @Test
    void aSilenceStillOpenAtTheEndIsUnanswered() {
        LongestGap gaps = new LongestGap(0);
        gaps.onAnswer(10);
        assertThat(gaps.longest(5_000)).isEqualTo(new LongestGap.Gap(10, 5_000, false));
        assertThat(new LongestGap(0).longest(300)).isEqualTo(new LongestGap.Gap(0, 300, false));
    }

    /** The failover's gap must be found even when an earlier stall was longer (the 512 MiB case). */
    @Test
    void longGapsAreKeptInOrderSoTheOneAroundAKillCanBeFound() throws Exception {
        long ms = 1_000_000;
        LongestGap gaps = new LongestGap(0);
        gaps.onAnswer(100 * ms);
        gaps.onAnswer(1_400 * ms); // a 1.3 s stall early on
        gaps.onAnswer(1_450 * ms); // short: not kept
        gaps.onAnswer(5_000 * ms);
        gaps.onAnswer(6_100 * ms); // the failover: 1.1 s
        assertThat(gaps.longGaps()).containsExactly(new LongestGap.Gap(100 * ms, 1_400 * ms, true),
                new LongestGap.Gap(1_450 * ms, 5_000 * ms, true), new LongestGap.Gap(5_000 * ms, 6_100 * ms, true));

        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                {"gap_start_ms": 100, "gap_end_ms": 1400, "long_gaps": [{"start_ms": 100, "end_ms": 1400},
                 {"start_ms": 4800, "end_ms": 5010}, {"start_ms": 5000, "end_ms": 6100}]}""");
        assertThat(LibvirtFailoverScenario.firstAnswerAfter(json, 5_200)).isEqualTo(6_100);
        assertThat(LibvirtFailoverScenario.firstAnswerAfter(json, 4_990))
                .as("a reply the dead primary had released ends a short gap after the kill; the outage follows")
                .isEqualTo(6_100);
        assertThat(LibvirtFailoverScenario.firstAnswerAfter(json, 7_000)).as("no answer after the kill")
                .isLessThan(7_000);
    }
}
