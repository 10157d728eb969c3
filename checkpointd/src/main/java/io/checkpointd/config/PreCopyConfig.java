package io.checkpointd.config;

/**
 * When a live pre-copy stops copying while the guest runs and takes its final pause. The first three
 * are Xen's rules; the last three the statistical rule of seed 001 (Makhubela's modified pre-copy): from
 * round {@code sigmaAfterRounds} on, stop when the standard deviation of the per-round dirty-page counts
 * (round 1, which sends everything, excluded) lies within {@code [sigmaLowPages, sigmaHighPages]}: the
 * dirty set has stopped shrinking, and more rounds would only add migration time.
 *
 * @param fewPages         stop when fewer pages than this are dirty (Xen: 50)
 * @param maxRounds        stop after this many rounds (Xen: 29 rounds before the last)
 * @param maxRamMultiple   stop when more than this many times RAM has been sent (Xen: 3)
 * @param sigmaAfterRounds the statistical rule applies from this round on (seed 001: 10); 0 disables it
 * @param sigmaLowPages    lower edge of the band, pages (seed 001 measured 150 for its VoIP guest)
 * @param sigmaHighPages   upper edge of the band, pages (seed 001: 300)
 */
public record PreCopyConfig(long fewPages, int maxRounds, int maxRamMultiple, int sigmaAfterRounds,
                            long sigmaLowPages, long sigmaHighPages) {

    static final Range FEW_PAGES = Range.count(1, 1_000_000);
    static final Range MAX_ROUNDS = Range.count(1, 1000);
    static final Range MAX_RAM_MULTIPLE = Range.count(1, 100);
    static final Range SIGMA_AFTER_ROUNDS = Range.count(0, 1000);
    static final Range SIGMA_PAGES = Range.count(0, 1_000_000_000);

    public static PreCopyConfig defaults() {
        return new PreCopyConfig(50, 29, 3, 10, 150, 300);
    }

    public PreCopyConfig withFewPages(long fewPages) {
        return new PreCopyConfig(fewPages, maxRounds, maxRamMultiple, sigmaAfterRounds, sigmaLowPages, sigmaHighPages);
    }

    public PreCopyConfig withMaxRounds(int maxRounds) {
        return new PreCopyConfig(fewPages, maxRounds, maxRamMultiple, sigmaAfterRounds, sigmaLowPages, sigmaHighPages);
    }

    public PreCopyConfig withSigmaBand(int afterRounds, long lowPages, long highPages) {
        return new PreCopyConfig(fewPages, maxRounds, maxRamMultiple, afterRounds, lowPages, highPages);
    }
}
