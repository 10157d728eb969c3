package io.checkpointd.failure;

import java.util.Objects;

/**
 * Timeout failure detector for one peer. Pure logic: no threads, no clock; every method takes the
 * caller's {@code nowNs} from one monotonic clock ({@link System#nanoTime()} in the daemon), and times are
 * only ever subtracted, so the detector keeps working when that clock wraps past {@link Long#MAX_VALUE}.
 *
 * <p>Rules, with {@code silence} = time since the last sign of life, or since {@link #watch} if none:
 * <ul>
 *   <li>never heard since {@link #watch}: {@link PeerState#UNKNOWN} until {@code silence >= deadAfterNs},
 *       then {@link PeerState#DEAD} (a peer that never shows up is as dead as one that stops);</li>
 *   <li>heard: {@link PeerState#ALIVE} while {@code silence < suspectAfterNs}, {@link PeerState#SUSPECT}
 *       while {@code silence < deadAfterNs}, then {@link PeerState#DEAD};</li>
 *   <li>{@link PeerState#DEAD} is sticky: a dead peer that speaks again is a new incarnation (it may have
 *       restarted without our state, or the failover may already be under way), so only the owner
 *       decides, by calling {@link #watch} again.</li>
 * </ul>
 * The outcome depends only on the times of watch and heartbeats, not on how often {@link #poll} runs: a
 * heartbeat that arrives after the dead deadline finds the peer already dead. Transitions can skip
 * {@link PeerState#SUSPECT} when polls are further apart than the gap between the two thresholds.
 *
 * <p>Not thread-safe: one owner calls all methods (see {@link PeerMonitor} for the shared case).
 */
public final class FailureDetector {
    /** Told of each state change, after the detector has changed state. */
    @FunctionalInterface
    public interface StateListener {
        /** Called from {@link #watch}, {@link #onHeartbeat} or {@link #poll} on the caller's thread. */
        void onStateChange(PeerState from, PeerState to, long nowNs);
    }

    private final long suspectAfterNs;
    private final long deadAfterNs;
    private final StateListener listener;

    private boolean watching;
    private boolean heard;
    private long watchStartNs;
    private long lastHeardNs;
    private PeerState state = PeerState.UNKNOWN;

    public FailureDetector(long suspectAfterNs, long deadAfterNs) {
        this(suspectAfterNs, deadAfterNs, (from, to, nowNs) -> { });
    }

    /**
     * @param suspectAfterNs silence after which a heard peer is {@link PeerState#SUSPECT}; must be positive
     * @param deadAfterNs    silence after which the peer is {@link PeerState#DEAD}; must exceed
     *                       {@code suspectAfterNs}
     */
    public FailureDetector(long suspectAfterNs, long deadAfterNs, StateListener listener) {
        if (suspectAfterNs <= 0) {
            throw new IllegalArgumentException("suspectAfterNs must be positive, was " + suspectAfterNs);
        }
        if (deadAfterNs <= suspectAfterNs) {
            throw new IllegalArgumentException("deadAfterNs (" + deadAfterNs
                    + ") must be greater than suspectAfterNs (" + suspectAfterNs + ")");
        }
        this.suspectAfterNs = suspectAfterNs;
        this.deadAfterNs = deadAfterNs;
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Starts watching, or starts over (also from {@link PeerState#DEAD}): the state becomes
     * {@link PeerState#UNKNOWN} and the peer has {@code deadAfterNs} from {@code nowNs} to show life.
     */
    public void watch(long nowNs) {
        watching = true;
        heard = false;
        watchStartNs = nowNs;
        moveTo(PeerState.UNKNOWN, nowNs);
    }

    /**
     * A sign of life at {@code nowNs}: the peer becomes {@link PeerState#ALIVE} unless it is already dead by
     * then. Before the first {@link #watch} it starts watching at {@code nowNs}. A time earlier than the last
     * one heard (callers on different threads read the clock in a different order than they get here) still
     * counts as life but does not move {@link #lastHeardNs()} back.
     */
    public void onHeartbeat(long nowNs) {
        if (!watching) {
            watch(nowNs);
        }
        advance(nowNs);
        // Recorded even when dead, so the owner can see that a dead peer spoke again.
        if (!heard || nowNs - lastHeardNs > 0) {
            lastHeardNs = nowNs;
        }
        heard = true;
        if (state != PeerState.DEAD) {
            moveTo(PeerState.ALIVE, nowNs);
        }
    }

    /** The state at {@code nowNs}. {@link PeerState#UNKNOWN} before anything was watched or heard. */
    public PeerState poll(long nowNs) {
        advance(nowNs);
        return state;
    }

    /** The state as of the last call; reads no time. */
    public PeerState state() {
        return state;
    }

    /** Time since the last sign of life, or since {@link #watch} if none; 0 before watching; never negative. */
    public long silenceNs(long nowNs) {
        if (!watching) {
            return 0;
        }
        long silenceNs = nowNs - (heard ? lastHeardNs : watchStartNs);
        return Math.max(0, silenceNs);
    }

    /** Whether the peer has shown life since the last {@link #watch}. */
    public boolean hasHeard() {
        return heard;
    }

    /** The {@code nowNs} of the latest sign of life; meaningful only when {@link #hasHeard()}. */
    public long lastHeardNs() {
        return lastHeardNs;
    }

    public long suspectAfterNs() {
        return suspectAfterNs;
    }

    public long deadAfterNs() {
        return deadAfterNs;
    }

    private void advance(long nowNs) {
        if (!watching || state == PeerState.DEAD) {
            return;
        }
        long silenceNs = silenceNs(nowNs);
        PeerState next;
        if (silenceNs >= deadAfterNs) {
            next = PeerState.DEAD;
        } else if (!heard) {
            next = PeerState.UNKNOWN;
        } else if (silenceNs >= suspectAfterNs) {
            next = PeerState.SUSPECT;
        } else {
            next = PeerState.ALIVE;
        }
        moveTo(next, nowNs);
    }

    private void moveTo(PeerState next, long nowNs) {
        PeerState previous = state;
        if (previous != next) {
            state = next;
            listener.onStateChange(previous, next, nowNs);
        }
    }
}
