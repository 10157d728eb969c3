package io.checkpointd.primary;

/**
 * The stop rule of a live pre-copy, Xen's: stop when few pages are still dirty, after a number of rounds,
 * or when more than a multiple of RAM was sent (the guest dirties faster than we send, so more rounds
 * would not converge). The final pause then copies what is still dirty.
 */
final class PreCopy {
    static final long FEW_PAGES = 50;
    static final int MAX_ROUNDS = 29;
    static final int MAX_RAM_MULTIPLE = 3;

    final long epoch;
    final long linkGeneration;
    private final long ramPages;
    private long roundsSubmitted;
    private long pagesSent;

    PreCopy(long epoch, long linkGeneration, long ramPages) {
        this.epoch = epoch;
        this.linkGeneration = linkGeneration;
        this.ramPages = ramPages;
    }

    void submitted(long pages) {
        roundsSubmitted++;
        pagesSent += pages;
    }

    long roundsSubmitted() {
        return roundsSubmitted;
    }

    /** Why to stop now with {@code dirtyPages} still dirty, or null to run another round. */
    String stopReason(long dirtyPages) {
        if (dirtyPages < FEW_PAGES) {
            return "fewer than " + FEW_PAGES + " pages dirty";
        }
        if (roundsSubmitted >= MAX_ROUNDS) {
            return MAX_ROUNDS + " rounds";
        }
        if (pagesSent + dirtyPages > MAX_RAM_MULTIPLE * ramPages) {
            return "more than " + MAX_RAM_MULTIPLE + "x RAM sent";
        }
        return null;
    }
}
