package io.checkpointd.config;

/**
 * When a live pre-copy stops copying while the guest runs and takes its final pause. The first three
 * are Xen's rules; the others the statistical rule of seed 001 (a modified pre-copy): from round
 * {@code sigmaAfterRounds} on, stop when the standard deviation of the dirty-page counts of the last
 * {@code sigmaWindowRounds} rounds lies within {@code [sigmaLowPages, sigmaHighPages]}: the dirty set has
 * stopped shrinking, and more rounds would only add migration time. Seed 001 took the deviation over all
 * rounds after the first and found 150-300 pages stable for its VoIP guest; over a window of recent
 * rounds a flat profile has a deviation near 0, so the default band starts at 0.
 *
 * @param fewPages         stop when fewer pages than this are dirty (Xen: 50)
 * @param maxRounds        stop after this many rounds (Xen: 29 rounds before the last)
 * @param maxRamMultiple   stop when more than this many times RAM has been sent (Xen: 3)
 * @param sigmaAfterRounds the statistical rule applies from this round on (seed 001: 10); 0 disables it
 * @param sigmaWindowRounds how many recent rounds the deviation covers (at least 2)
 * @param sigmaLowPages    lower edge of the band, pages
 * @param sigmaHighPages   upper edge of the band, pages
 */
public record PreCopyConfig(long fewPages, int maxRounds, int maxRamMultiple, int sigmaAfterRounds,
                            int sigmaWindowRounds, long sigmaLowPages, long sigmaHighPages) {

    static final Range FEW_PAGES = Range.count(1, 1_000_000);
    static final Range MAX_ROUNDS = Range.count(1, 1000);
    static final Range MAX_RAM_MULTIPLE = Range.count(1, 100);
    static final Range SIGMA_AFTER_ROUNDS = Range.count(0, 1000);
    static final Range SIGMA_WINDOW_ROUNDS = Range.count(2, 1000);
    static final Range SIGMA_PAGES = Range.count(0, 1_000_000_000);

    public static PreCopyConfig defaults() {
        return new PreCopyConfig(50, 29, 3, 10, 5, 0, 300);
    }

    public PreCopyConfig withFewPages(long fewPages) {
        return new PreCopyConfig(fewPages, maxRounds, maxRamMultiple, sigmaAfterRounds, sigmaWindowRounds,
                sigmaLowPages, sigmaHighPages);
    }

    public PreCopyConfig withMaxRounds(int maxRounds) {
        return new PreCopyConfig(fewPages, maxRounds, maxRamMultiple, sigmaAfterRounds, sigmaWindowRounds,
                sigmaLowPages, sigmaHighPages);
    }

    public PreCopyConfig withSigmaBand(int afterRounds, int windowRounds, long lowPages, long highPages) {
        return new PreCopyConfig(fewPages, maxRounds, maxRamMultiple, afterRounds, windowRounds, lowPages, highPages);
    }
}
