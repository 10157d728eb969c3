package io.checkpointd.failure;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

class PeerMonitorTest {
    private static final long MS = 1_000_000;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PeerMonitor monitor = new PeerMonitor(300 * MS, 1_000 * MS, registry, Tags.of("domain", "db"));

    private double stateGauge() {
        return registry.get(PeerMonitor.STATE).tag("domain", "db").gauge().value();
    }

    @Test
    void stateGaugeFollowsEveryState() {
        assertThat(stateGauge()).isEqualTo(0);
        monitor.watch(0);
        monitor.onHeartbeat(100 * MS, 1, -1);
        assertThat(stateGauge()).isEqualTo(1);
        assertThat(monitor.poll(400 * MS)).isEqualTo(PeerState.SUSPECT);
        assertThat(stateGauge()).isEqualTo(2);
        assertThat(monitor.poll(1_100 * MS)).isEqualTo(PeerState.DEAD);
        assertThat(stateGauge()).isEqualTo(3);
        monitor.watch(2_000 * MS);
        assertThat(stateGauge()).isEqualTo(0);
        assertThat(monitor.state()).isEqualTo(PeerState.UNKNOWN);
    }

    @Test
    void gaugeEncodingIsStable() {
        assertThat(PeerMonitor.gaugeValue(PeerState.UNKNOWN)).isEqualTo(0);
        assertThat(PeerMonitor.gaugeValue(PeerState.ALIVE)).isEqualTo(1);
        assertThat(PeerMonitor.gaugeValue(PeerState.SUSPECT)).isEqualTo(2);
        assertThat(PeerMonitor.gaugeValue(PeerState.DEAD)).isEqualTo(3);
        for (PeerState state : PeerState.values()) {
            assertThat(PeerMonitor.stateOfGaugeValue(PeerMonitor.gaugeValue(state))).isEqualTo(state);
        }
        assertThat(PeerMonitor.stateOfGaugeValue(Double.NaN)).isEqualTo(PeerState.UNKNOWN);
    }

    @Test
    void heartbeatsAreCountedAndRoundTripsTimed() {
        monitor.watch(0);
        monitor.onHeartbeat(100 * MS, 1, -1);
        monitor.onHeartbeat(200 * MS, 2, 2 * MS);
        monitor.onHeartbeat(300 * MS, 3, 4 * MS);

        assertThat(registry.get(PeerMonitor.RECEIVED).tag("domain", "db").counter().count()).isEqualTo(3);
        Timer rtt = registry.get(PeerMonitor.RTT).tag("domain", "db").timer();
        assertThat(rtt.count()).isEqualTo(2);
        assertThat(rtt.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(6);
        assertThat(rtt.max(TimeUnit.MILLISECONDS)).isEqualTo(4);
        assertThat(monitor.lastRttNs()).isEqualTo(4 * MS);
    }

    @Test
    void replicationFramesKeepThePeerAliveWithoutHeartbeats() {
        monitor.watch(0);
        for (long t = 0; t <= 5_000 * MS; t += 250 * MS) { // heartbeats lost, a big checkpoint streams on TCP
            monitor.onSignOfLife(t);
            assertThat(monitor.poll(t)).isEqualTo(PeerState.ALIVE);
        }
        assertThat(monitor.silenceNs(5_100 * MS)).isEqualTo(100 * MS);
        assertThat(registry.get(PeerMonitor.RECEIVED).tag("domain", "db").counter().count()).isZero();
    }

    @Test
    void closeUnregistersTheMeters() {
        monitor.close();
        assertThat(registry.getMeters()).isEmpty();
        try (PeerMonitor next = new PeerMonitor(300 * MS, 1_000 * MS, registry, Tags.of("domain", "db"))) {
            next.watch(0);
            next.onHeartbeat(1, 1, -1);
            assertThat(stateGauge()).isEqualTo(1);
        }
    }
}
