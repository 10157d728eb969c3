package io.checkpointd.demo;

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
}
