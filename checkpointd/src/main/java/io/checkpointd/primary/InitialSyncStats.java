package io.checkpointd.primary;

import java.util.ArrayList;
import java.util.List;

/**
 * How the last full checkpoint went: pages per live round and the one pause it needed. Written by the
 * epoch loop, read for summaries after the loop stopped or through the synchronized accessors.
 */
public final class InitialSyncStats {
    private final List<Long> pagesPerRound = new ArrayList<>();
    private long pauseNs = -1;
    private String stopReason = "";
    private boolean live;

    synchronized void start(boolean liveSync) {
        pagesPerRound.clear();
        pauseNs = -1;
        stopReason = "";
        live = liveSync;
    }

    synchronized void round(long pages) {
        pagesPerRound.add(pages);
    }

    synchronized void finish(long finalPauseNs, String reason) {
        pauseNs = finalPauseNs;
        stopReason = reason;
    }

    public synchronized List<Long> pagesPerRound() {
        return List.copyOf(pagesPerRound);
    }

    /** The pause of the final part (or of the whole copy, when paused); -1 before any full checkpoint. */
    public synchronized long pauseNs() {
        return pauseNs;
    }

    public synchronized String stopReason() {
        return stopReason;
    }

    public synchronized boolean live() {
        return live;
    }
}
