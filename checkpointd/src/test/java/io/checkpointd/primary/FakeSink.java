package io.checkpointd.primary;

import java.util.ArrayList;
import java.util.List;

/** Collects what the epoch loop hands out; rounds complete when the test says so. */
final class FakeSink implements CheckpointSink {
    final List<Staging> staged = new ArrayList<>();
    final List<LiveRound> rounds = new ArrayList<>();
    long completed;

    @Override
    public void submit(Staging staging) {
        staged.add(staging);
    }

    @Override
    public void submitRound(LiveRound round) {
        rounds.add(round);
    }

    @Override
    public long roundsCompleted() {
        return completed;
    }
}
