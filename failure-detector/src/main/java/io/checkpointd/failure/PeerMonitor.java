package io.checkpointd.failure;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon's view of its peer: a {@link FailureDetector} fed by both liveness sources, with meters.
 * Signs of life come from the {@link HeartbeatChannel} (this is its {@link HeartbeatChannel.Listener}) and
 * from the replication connection ({@link #onSignOfLife} for every frame read), so a peer busy streaming a
 * large checkpoint is alive even if its heartbeats are delayed, and a peer whose TCP stream is stuck still
 * proves it is running through UDP.
 *
 * <p>Thread-safety: the detector is touched by the heartbeat loop (ten times a second), the TCP loop (once
 * per frame) and the poller. The methods that touch it are {@code synchronized} rather than handing work to
 * one owner: each call is a few comparisons, the lock is uncontended almost always, and a queue hop would
 * cost more than the work while delaying the poller's answer.
 */
public final class PeerMonitor implements HeartbeatChannel.Listener, AutoCloseable {
    /** Gauge; value 0 unknown, 1 alive, 2 suspect, 3 dead. */
    public static final String STATE = "checkpointd.peer.state";
    /** Timer of heartbeat round-trip times, without the time the peer held the echo. */
    public static final String RTT = "checkpointd.heartbeat.rtt";
    /** Counter of valid heartbeats received. */
    public static final String RECEIVED = "checkpointd.heartbeat.received";

    private final FailureDetector detector;
    private final MeterRegistry registry;
    private final AtomicInteger stateValue = new AtomicInteger(gaugeValue(PeerState.UNKNOWN));
    private final Timer rtt;
    private final Counter received;
    private final List<Meter> meters;
    private volatile long lastRttNs = -1;

    /**
     * @param tags added to every meter, e.g. the domain name and role
     * @see FailureDetector#FailureDetector(long, long) for the thresholds
     */
    public PeerMonitor(long suspectAfterNs, long deadAfterNs, MeterRegistry registry, Iterable<Tag> tags) {
        this.detector = new FailureDetector(suspectAfterNs, deadAfterNs,
                (from, to, nowNs) -> stateValue.set(gaugeValue(to)));
        this.registry = registry;
        Tags base = Tags.of(tags);
        Gauge state = Gauge.builder(STATE, stateValue, AtomicInteger::get)
                .description("Replication peer state: 0 unknown (not heard since watching began), 1 alive, "
                        + "2 suspect (silent past the suspect threshold), 3 dead (silent past the dead threshold)")
                .tags(base).register(registry);
        // A LAN round trip is tens of microseconds; a loaded host can take seconds before the peer is dead.
        rtt = Timer.builder(RTT)
                .description("Heartbeat round-trip time, without the time the peer held the echo")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .tags(base).register(registry);
        received = Counter.builder(RECEIVED)
                .description("Valid heartbeats received from the peer")
                .tags(base).register(registry);
        meters = List.of(state, rtt, received);
    }

    /** Starts or restarts watching; see {@link FailureDetector#watch}. */
    public synchronized void watch(long nowNs) {
        detector.watch(nowNs);
    }

    /** A heartbeat from the {@link HeartbeatChannel}: counted, its round trip recorded, and a sign of life. */
    @Override
    public void onHeartbeat(long nowNs, long sequence, long rttNs) {
        received.increment();
        if (rttNs >= 0) {
            rtt.record(rttNs, TimeUnit.NANOSECONDS);
            lastRttNs = rttNs;
        }
        onSignOfLife(nowNs);
    }

    /** Any frame read from the peer on the replication connection. */
    public synchronized void onSignOfLife(long nowNs) {
        detector.onHeartbeat(nowNs);
    }

    /** The peer's state at {@code nowNs}; see {@link FailureDetector#poll}. */
    public synchronized PeerState poll(long nowNs) {
        return detector.poll(nowNs);
    }

    /** See {@link FailureDetector#silenceNs}. */
    public synchronized long silenceNs(long nowNs) {
        return detector.silenceNs(nowNs);
    }

    /** The state as of the last watch, sign of life or poll; reads no time. */
    public synchronized PeerState state() {
        return detector.state();
    }

    /** The latest heartbeat round trip, -1 before the first. */
    public long lastRttNs() {
        return lastRttNs;
    }

    /** Unregisters the meters, so a new monitor with the same tags registers fresh ones. */
    @Override
    public void close() {
        meters.forEach(registry::remove);
    }

    /** The state a {@link #STATE} gauge reads, for readers of the registry (the status endpoint). */
    public static PeerState stateOfGaugeValue(double value) {
        for (PeerState state : PeerState.values()) {
            if (gaugeValue(state) == value) {
                return state;
            }
        }
        return PeerState.UNKNOWN;
    }

    static int gaugeValue(PeerState state) {
        return switch (state) {
            case UNKNOWN -> 0;
            case ALIVE -> 1;
            case SUSPECT -> 2;
            case DEAD -> 3;
        };
    }
}
