package io.checkpointd.primary;

import java.util.Map;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Checkpoints taken and not yet acknowledged. The epoch loop adds, the connection's event loop removes on
 * ACK or clears when the connection is lost; the map is the hand-off between the two threads.
 */
final class CheckpointProgress {
    private final ConcurrentNavigableMap<Long, Long> resumedNsByEpoch = new ConcurrentSkipListMap<>();
    private volatile long lastAckedEpoch;

    void onStaged(long epoch, long resumedNs) {
        resumedNsByEpoch.put(epoch, resumedNs);
    }

    /**
     * The backup acknowledged {@code epoch} (and so every earlier one).
     *
     * @return the resume time of {@code epoch}, or -1 if it was not outstanding (a late or duplicate ACK)
     */
    long onAck(long epoch) {
        Long resumedNs = resumedNsByEpoch.get(epoch);
        Map<Long, Long> done = resumedNsByEpoch.headMap(epoch, true);
        done.clear();
        if (epoch > lastAckedEpoch) {
            lastAckedEpoch = epoch;
        }
        return resumedNs == null ? -1 : resumedNs;
    }

    /** The connection is gone; nothing outstanding will be acknowledged. */
    void onLinkLost() {
        resumedNsByEpoch.clear();
    }

    int outstanding() {
        return resumedNsByEpoch.size();
    }

    long lastAckedEpoch() {
        return lastAckedEpoch;
    }
}
