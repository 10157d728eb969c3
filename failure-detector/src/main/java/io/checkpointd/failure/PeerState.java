package io.checkpointd.failure;

/** What this side believes about its replication peer. */
public enum PeerState {
    /** Never heard from since watching began; still within the deadline to show life. */
    UNKNOWN,
    /** Heard from within the suspect threshold. */
    ALIVE,
    /** Silent for at least the suspect threshold but less than the dead threshold: a warning, no action. */
    SUSPECT,
    /** Silent for the dead threshold. Sticky: only a new watch (a new incarnation of the peer) leaves it. */
    DEAD
}
