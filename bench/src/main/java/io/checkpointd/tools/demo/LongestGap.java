package io.checkpointd.tools.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The longest stretch a client went without an answer: what a user of the service experiences as
 * downtime, measured without knowing when (or whether) anything failed. The stretch before the first
 * answer counts, so a service that is down at the start is not reported as available.
 *
 * <p>Times are on the caller's monotonic clock; callers convert to wall-clock time if they need to.
 */
public final class LongestGap {
    /**
     * A stretch without answers.
     *
     * @param startNs  the answer before it, or the start of the run
     * @param endNs    the first answer after it; when {@code answered} is false, the moment the run ended
     * @param answered whether an answer ended it (false: the run ended while the service was silent)
     */
    public record Gap(long startNs, long endNs, boolean answered) {
        public long lengthNs() {
            return endNs - startNs;
        }
    }

    /** Gaps at least this long are also kept in order ({@link #longGaps()}), so a failover's can be found. */
    public static final long LONG_GAP_NS = TimeUnit.MILLISECONDS.toNanos(150);
    /** Bound on the gaps kept: a service down for good ends in one open gap, not a growing list. */
    public static final int MAX_LONG_GAPS = 1000;

    private final List<Gap> longGaps = new ArrayList<>();
    private long lastAnswerNs;
    private Gap longestAnswered;

    /** The run starts at {@code nowNs}: the first stretch is measured from here. */
    public LongestGap(long nowNs) {
        this.lastAnswerNs = nowNs;
        this.longestAnswered = new Gap(nowNs, nowNs, true);
    }

    public void onAnswer(long nowNs) {
        long gapNs = nowNs - lastAnswerNs;
        if (gapNs > longestAnswered.lengthNs()) {
            longestAnswered = new Gap(lastAnswerNs, nowNs, true);
        }
        if (gapNs >= LONG_GAP_NS && longGaps.size() < MAX_LONG_GAPS) {
            longGaps.add(new Gap(lastAnswerNs, nowNs, true));
        }
        lastAnswerNs = nowNs;
    }

    /**
     * Every answered gap of at least {@link #LONG_GAP_NS}, oldest first (at most {@link #MAX_LONG_GAPS}):
     * the longest gap alone cannot say when a failover happened, since an earlier stall may be longer.
     */
    public List<Gap> longGaps() {
        return List.copyOf(longGaps);
    }

    /** The longest gap so far, including the one still open at {@code nowNs} if that is the longest. */
    public Gap longest(long nowNs) {
        return nowNs - lastAnswerNs > longestAnswered.lengthNs() ? new Gap(lastAnswerNs, nowNs, false) : longestAnswered;
    }
}
