package io.checkpointd.dirty;

/**
 * Running statistics of the pages dirtied per epoch: count, last value, mean, standard deviation, range,
 * and the last dirty rate. Fed once per epoch by the epoch loop; read by metrics, the pre-copy stop rule
 * and epoch tuning.
 *
 * <p>The mean and variance use Welford's online method: a naive sum of squares cancels catastrophically
 * when the spread is small next to the values (σ of a few pages around 10<sup>12</sup>), Welford's does not.
 * On top of it, values are shifted by the first one (exactly, in {@code long}) before they become doubles,
 * so large but steady counts keep full precision. Memory is constant whatever the number of epochs.
 *
 * <p>Not thread-safe: the epoch loop owns it. Another thread (a metrics scrape) must be handed the values
 * rather than read them here.
 */
public final class DirtyStats {
    private long epochs;
    private long lastDirtyPages;
    private long minDirtyPages;
    private long maxDirtyPages;
    /** The first value: the others are recorded relative to it, which the variance does not notice. */
    private long shiftPages;
    /** Running mean of {@code dirtyPages - shiftPages}. */
    private double shiftedMean;
    /** Sum of squared deviations from the running mean (Welford's M2). */
    private double sumSquaredDeviations;
    private double lastRatePagesPerSecond;

    /**
     * Records one epoch.
     *
     * @param dirtyPages pages dirtied during the epoch, {@code >= 0}
     * @param intervalNs how long the guest ran to dirty them, {@code > 0}
     */
    public void record(long dirtyPages, long intervalNs) {
        if (dirtyPages < 0) {
            throw new IllegalArgumentException("dirtyPages must be >= 0: " + dirtyPages);
        }
        if (intervalNs <= 0) {
            throw new IllegalArgumentException("intervalNs must be > 0: " + intervalNs);
        }
        epochs++;
        if (epochs == 1) {
            shiftPages = dirtyPages;
            minDirtyPages = dirtyPages;
            maxDirtyPages = dirtyPages;
        } else {
            minDirtyPages = Math.min(minDirtyPages, dirtyPages);
            maxDirtyPages = Math.max(maxDirtyPages, dirtyPages);
        }
        lastDirtyPages = dirtyPages;
        // Both are >= 0, so the difference cannot overflow; it is exact before it becomes a double.
        double x = dirtyPages - shiftPages;
        double delta = x - shiftedMean;
        shiftedMean += delta / epochs;
        sumSquaredDeviations += delta * (x - shiftedMean);
        lastRatePagesPerSecond = dirtyPages * 1e9 / intervalNs;
    }

    /** Forgets every recorded epoch. */
    public void reset() {
        epochs = 0;
        lastDirtyPages = 0;
        minDirtyPages = 0;
        maxDirtyPages = 0;
        shiftPages = 0;
        shiftedMean = 0;
        sumSquaredDeviations = 0;
        lastRatePagesPerSecond = 0;
    }

    /** Epochs recorded since creation or the last {@link #reset()}. */
    public long epochs() {
        return epochs;
    }

    /** Dirty pages of the latest epoch; 0 before the first. */
    public long lastDirtyPages() {
        return lastDirtyPages;
    }

    /** Fewest dirty pages of any epoch; 0 before the first. */
    public long minDirtyPages() {
        return minDirtyPages;
    }

    /** Most dirty pages of any epoch; 0 before the first. */
    public long maxDirtyPages() {
        return maxDirtyPages;
    }

    /** Mean dirty pages per epoch; NaN before the first. */
    public double meanDirtyPages() {
        return epochs == 0 ? Double.NaN : shiftPages + shiftedMean;
    }

    /** Population standard deviation (divides by n): the spread of exactly these epochs; NaN before the first. */
    public double populationStddevDirtyPages() {
        return epochs == 0 ? Double.NaN : Math.sqrt(sumSquaredDeviations / epochs);
    }

    /**
     * Sample standard deviation (divides by n - 1): the spread of the guest's behaviour estimated from these
     * epochs; NaN with fewer than two.
     */
    public double sampleStddevDirtyPages() {
        return epochs < 2 ? Double.NaN : Math.sqrt(sumSquaredDeviations / (epochs - 1));
    }

    /** Dirty pages per second of guest run time in the latest epoch; 0 before the first. */
    public double lastRatePagesPerSecond() {
        return lastRatePagesPerSecond;
    }

    /**
     * The latest epoch's dirty rate in MB/s (10<sup>6</sup> bytes, as the benchmarks report) of guest
     * pages of {@code pageSizeBytes}: the bandwidth a backup link needs to keep up. 0 before the first.
     */
    public double lastRateMBPerSecond(int pageSizeBytes) {
        return megabytesPerSecond(lastRatePagesPerSecond, pageSizeBytes);
    }

    /** {@code pagesPerSecond} pages of {@code pageSizeBytes} as MB/s (10<sup>6</sup> bytes per second). */
    public static double megabytesPerSecond(double pagesPerSecond, int pageSizeBytes) {
        if (pageSizeBytes <= 0) {
            throw new IllegalArgumentException("pageSizeBytes must be > 0: " + pageSizeBytes);
        }
        return pagesPerSecond * pageSizeBytes / 1e6;
    }
}
