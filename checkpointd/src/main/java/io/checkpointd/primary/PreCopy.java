package io.checkpointd.primary;

import io.checkpointd.config.PreCopyConfig;
import io.checkpointd.dirty.DirtyStats;
import java.util.ArrayDeque;

/**
 * The stop rule of a live pre-copy (see {@link PreCopyConfig}): Xen's (few pages dirty, a number of
 * rounds, a multiple of RAM sent) and seed 001's statistical one (the standard deviation of the per-round
 * dirty counts settled in a band). The final pause then copies what is still dirty.
 */
final class PreCopy {
    final long epoch;
    final long linkGeneration;
    private final long ramPages;
    private final PreCopyConfig rules;
    // Dirty counts of the most recent rounds after the first (round 1 sends every page by definition).
    private final ArrayDeque<Long> recentRounds = new ArrayDeque<>();
    private long roundsSubmitted;
    private long pagesSent;

    PreCopy(long epoch, long linkGeneration, long ramPages, PreCopyConfig rules) {
        this.epoch = epoch;
        this.linkGeneration = linkGeneration;
        this.ramPages = ramPages;
        this.rules = rules;
    }

    void submitted(long pages) {
        if (roundsSubmitted > 0) {
            recentRounds.addLast(pages);
            if (recentRounds.size() > rules.sigmaWindowRounds()) {
                recentRounds.removeFirst();
            }
        }
        roundsSubmitted++;
        pagesSent += pages;
    }

    long roundsSubmitted() {
        return roundsSubmitted;
    }

    /** Why to stop now with {@code dirtyPages} still dirty, or null to run another round. */
    String stopReason(long dirtyPages) {
        if (dirtyPages < rules.fewPages()) {
            return "fewer than " + rules.fewPages() + " pages dirty";
        }
        if (roundsSubmitted >= rules.maxRounds()) {
            return rules.maxRounds() + " rounds";
        }
        if (pagesSent + dirtyPages > rules.maxRamMultiple() * ramPages) {
            return "more than " + rules.maxRamMultiple() + "x RAM sent";
        }
        if (rules.sigmaAfterRounds() > 0 && roundsSubmitted >= rules.sigmaAfterRounds()
                && recentRounds.size() == rules.sigmaWindowRounds()) {
            DirtyStats window = new DirtyStats(); // Welford over the window: a handful of rounds
            recentRounds.forEach(pages -> window.record(pages, 1));
            double sigma = window.populationStddevDirtyPages();
            if (sigma >= rules.sigmaLowPages() && sigma <= rules.sigmaHighPages()) {
                return String.format("dirty set stopped shrinking (sigma %.0f pages after %d rounds)", sigma,
                        roundsSubmitted);
            }
        }
        return null;
    }
}
