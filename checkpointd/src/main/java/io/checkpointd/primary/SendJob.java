package io.checkpointd.primary;

/** What the epoch loop hands the sender: a staged checkpoint or a live pre-copy round. */
sealed interface SendJob permits Staging, LiveRound {
}
