package io.checkpointd.failure;

import static io.checkpointd.failure.PeerState.ALIVE;
import static io.checkpointd.failure.PeerState.DEAD;
import static io.checkpointd.failure.PeerState.SUSPECT;
import static io.checkpointd.failure.PeerState.UNKNOWN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

class FailureDetectorTest {
    private static final long MS = 1_000_000;
    private static final long SUSPECT_NS = 300 * MS;
    private static final long DEAD_NS = 1_000 * MS;

    record Transition(PeerState from, PeerState to, long nowNs) {
    }

    private final List<Transition> transitions = new ArrayList<>();
    private final FailureDetector detector =
            new FailureDetector(SUSPECT_NS, DEAD_NS, (from, to, nowNs) -> transitions.add(new Transition(from, to, nowNs)));

    @Test
    void rejectsThresholdsOutOfOrder() {
        assertThatThrownBy(() -> new FailureDetector(0, DEAD_NS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("suspectAfterNs must be positive");
        assertThatThrownBy(() -> new FailureDetector(-1, DEAD_NS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("suspectAfterNs must be positive");
        assertThatThrownBy(() -> new FailureDetector(SUSPECT_NS, SUSPECT_NS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("deadAfterNs (300000000) must be greater than suspectAfterNs (300000000)");
        assertThatThrownBy(() -> new FailureDetector(SUSPECT_NS, DEAD_NS, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("listener");
    }

    @Test
    void idleBeforeWatchOrHeartbeat() {
        assertThat(detector.poll(0)).isEqualTo(UNKNOWN);
        assertThat(detector.poll(10 * DEAD_NS)).isEqualTo(UNKNOWN);
        assertThat(detector.silenceNs(10 * DEAD_NS)).isZero();
        assertThat(detector.hasHeard()).isFalse();
        assertThat(transitions).isEmpty();
    }

    @Test
    void neverHeardIsUnknownUntilTheDeadDeadlineThenDead() {
        detector.watch(1_000 * MS);
        assertThat(detector.poll(1_000 * MS)).isEqualTo(UNKNOWN);
        assertThat(detector.poll(1_000 * MS + SUSPECT_NS)).isEqualTo(UNKNOWN); // no suspicion without a first beat
        assertThat(detector.poll(1_000 * MS + DEAD_NS - 1)).isEqualTo(UNKNOWN);
        assertThat(detector.silenceNs(1_000 * MS + DEAD_NS - 1)).isEqualTo(DEAD_NS - 1);
        assertThat(detector.poll(1_000 * MS + DEAD_NS)).isEqualTo(DEAD);
        assertThat(transitions).containsExactly(new Transition(UNKNOWN, DEAD, 1_000 * MS + DEAD_NS));
    }

    @Test
    void eachThresholdIsCrossedWhenTheSilenceReachesIt() {
        detector.watch(0);
        detector.onHeartbeat(50 * MS);
        long heard = 50 * MS;
        assertThat(detector.state()).isEqualTo(ALIVE);
        assertThat(detector.poll(heard + SUSPECT_NS - 1)).isEqualTo(ALIVE);
        assertThat(detector.poll(heard + SUSPECT_NS)).isEqualTo(SUSPECT);
        assertThat(detector.poll(heard + DEAD_NS - 1)).isEqualTo(SUSPECT);
        assertThat(detector.poll(heard + DEAD_NS)).isEqualTo(DEAD);
        assertThat(transitions).containsExactly(
                new Transition(UNKNOWN, ALIVE, heard),
                new Transition(ALIVE, SUSPECT, heard + SUSPECT_NS),
                new Transition(SUSPECT, DEAD, heard + DEAD_NS));
    }

    @Test
    void heartbeatsKeepThePeerAliveAndRescueASuspect() {
        detector.watch(0);
        for (long t = 100 * MS; t <= 2_000 * MS; t += 100 * MS) {
            detector.onHeartbeat(t);
            assertThat(detector.poll(t + 99 * MS)).isEqualTo(ALIVE);
        }
        assertThat(detector.lastHeardNs()).isEqualTo(2_000 * MS);
        assertThat(detector.poll(2_000 * MS + 500 * MS)).isEqualTo(SUSPECT);
        detector.onHeartbeat(2_000 * MS + 600 * MS);
        assertThat(detector.state()).isEqualTo(ALIVE);
        assertThat(transitions).extracting(Transition::to).containsExactly(ALIVE, SUSPECT, ALIVE);
    }

    @Test
    void deadIsStickyButTheOwnerCanSeeThePeerSpeakAgain() {
        detector.watch(0);
        detector.onHeartbeat(10 * MS);
        assertThat(detector.poll(10 * MS + DEAD_NS)).isEqualTo(DEAD);

        detector.onHeartbeat(5_000 * MS);

        assertThat(detector.state()).isEqualTo(DEAD);
        assertThat(detector.poll(5_000 * MS)).isEqualTo(DEAD);
        assertThat(detector.lastHeardNs()).isEqualTo(5_000 * MS);
        assertThat(detector.silenceNs(5_001 * MS)).isEqualTo(MS);
        assertThat(transitions).extracting(Transition::to).containsExactly(ALIVE, DEAD);
    }

    @Test
    void aHeartbeatAfterTheDeadDeadlineFindsThePeerDeadEvenWithoutAPollInBetween() {
        detector.watch(0);
        detector.onHeartbeat(10 * MS);
        detector.onHeartbeat(10 * MS + DEAD_NS);
        assertThat(detector.state()).isEqualTo(DEAD);
        assertThat(transitions).containsExactly(
                new Transition(UNKNOWN, ALIVE, 10 * MS),
                new Transition(ALIVE, DEAD, 10 * MS + DEAD_NS)); // SUSPECT skipped: nobody polled in between
    }

    @Test
    void aFirstHeartbeatAfterTheDeadDeadlineFindsThePeerDead() {
        detector.watch(0);
        detector.onHeartbeat(DEAD_NS);
        assertThat(detector.state()).isEqualTo(DEAD);
    }

    @Test
    void watchStartsOverFromDead() {
        detector.watch(0);
        assertThat(detector.poll(DEAD_NS)).isEqualTo(DEAD);

        detector.watch(2 * DEAD_NS);

        assertThat(detector.state()).isEqualTo(UNKNOWN);
        assertThat(detector.hasHeard()).isFalse();
        assertThat(detector.poll(3 * DEAD_NS - 1)).isEqualTo(UNKNOWN); // a full deadAfter again
        detector.onHeartbeat(3 * DEAD_NS - 1);
        assertThat(detector.state()).isEqualTo(ALIVE);
        assertThat(transitions).extracting(Transition::from, Transition::to).containsExactly(
                tuple(UNKNOWN, DEAD),
                tuple(DEAD, UNKNOWN),
                tuple(UNKNOWN, ALIVE));
    }

    @Test
    void watchWhileAliveForgetsThePreviousIncarnation() {
        detector.watch(0);
        detector.onHeartbeat(10 * MS);
        detector.watch(20 * MS);
        assertThat(detector.state()).isEqualTo(UNKNOWN);
        assertThat(detector.poll(20 * MS + SUSPECT_NS)).isEqualTo(UNKNOWN);
        assertThat(detector.poll(20 * MS + DEAD_NS)).isEqualTo(DEAD);
    }

    @Test
    void aHeartbeatBeforeAnyWatchStartsWatching() {
        detector.onHeartbeat(7 * MS);
        assertThat(detector.state()).isEqualTo(ALIVE);
        assertThat(detector.poll(7 * MS + DEAD_NS)).isEqualTo(DEAD);
        assertThat(transitions).extracting(Transition::to).containsExactly(ALIVE, DEAD);
    }

    @Test
    void anOlderTimestampFromAnotherThreadDoesNotMoveLastHeardBack() {
        detector.watch(0);
        detector.onHeartbeat(500 * MS);
        detector.onHeartbeat(499 * MS);
        assertThat(detector.lastHeardNs()).isEqualTo(500 * MS);
        assertThat(detector.state()).isEqualTo(ALIVE);
        assertThat(detector.silenceNs(499 * MS)).isZero();
        assertThat(detector.poll(500 * MS + SUSPECT_NS)).isEqualTo(SUSPECT);
    }

    @Test
    void survivesTheNanoTimeWrap() {
        long start = Long.MAX_VALUE - 250 * MS;
        detector.watch(start);
        long t = start;
        for (int beat = 0; beat < 10; beat++) { // 100 ms apart: crosses Long.MAX_VALUE into negative values
            t += 100 * MS;
            detector.onHeartbeat(t);
            assertThat(detector.poll(t + SUSPECT_NS - 1)).isEqualTo(ALIVE);
        }
        assertThat(t).isNegative();
        assertThat(detector.lastHeardNs()).isEqualTo(t);
        assertThat(detector.silenceNs(t + 5 * MS)).isEqualTo(5 * MS);
        assertThat(detector.poll(t + SUSPECT_NS)).isEqualTo(SUSPECT);
        assertThat(detector.poll(t + DEAD_NS - 1)).isEqualTo(SUSPECT);
        assertThat(detector.poll(t + DEAD_NS)).isEqualTo(DEAD);
    }

    @Test
    void neverHeardDeadlineSurvivesTheWrap() {
        long start = Long.MAX_VALUE - 10 * MS;
        detector.watch(start);
        assertThat(detector.poll(start + DEAD_NS - 1)).isEqualTo(UNKNOWN);
        assertThat(detector.poll(start + DEAD_NS)).isEqualTo(DEAD);
    }
}
