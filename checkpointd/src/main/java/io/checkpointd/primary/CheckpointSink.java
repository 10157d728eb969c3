package io.checkpointd.primary;

/** Where the epoch loop hands its work: the sender, or a test. */
interface CheckpointSink {
    /** A staged checkpoint (or the paused, final part of a live full checkpoint). */
    void submit(Staging staging);

    /** A live pre-copy round. */
    void submitRound(LiveRound round);

    /** Live rounds written out so far; the epoch loop waits for each before taking the next dirty set. */
    long roundsCompleted();
}
