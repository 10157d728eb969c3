package io.checkpointd.dirty;

import java.io.IOException;
import java.util.function.Supplier;

/**
 * The dirty tracker a domain gets, and the one log line saying which and why, e.g.
 * {@code dirty tracking: scan (soft-dirty unavailable: kernel lacks CONFIG_MEM_SOFT_DIRTY: ...)}.
 *
 * @param tracker the caller's to close; an offered exact tracker that was not chosen stays the driver's
 */
public record TrackerChoice(DirtyTracker tracker, String logMessage) {
    private static final String PREFIX = "dirty tracking: ";

    /**
     * Chooses for {@code mode}: {@code auto} takes the exact tracker when the driver offers one, else
     * soft-dirty when the driver offers a process mapping and {@link SoftDirtySupport#probe()} says the
     * kernel supports it, else a scan. An explicit mode gets that tracker or an error.
     *
     * <p>A new tracker starts tracking here (a scan copies the RAM, soft-dirty clears the bits): call this
     * while the guest is paused for its first, full checkpoint.
     *
     * @throws IllegalStateException when the mode needs what the driver or the kernel cannot provide; the
     *     message names the reason (for soft-dirty, the probe's)
     */
    public static TrackerChoice choose(TrackingMode mode, TrackerOffer offer) {
        return choose(mode, offer, SoftDirtySupport::probe);
    }

    /** As {@link #choose(TrackingMode, TrackerOffer)} with the kernel probe supplied (tests); called at most once. */
    static TrackerChoice choose(TrackingMode mode, TrackerOffer offer, Supplier<SoftDirtySupport.Probe> probe) {
        return switch (mode) {
            case EXACT -> {
                if (offer.exact() == null) {
                    throw unavailable("exact requested, but the driver does not report the guest's writes"
                            + " (use auto, scan or soft-dirty)");
                }
                yield chosen(offer.exact(), "configured");
            }
            case SCAN -> {
                if (offer.ram() == null) {
                    throw unavailable("scan requested, but the driver offers no mapped guest RAM to scan");
                }
                yield chosen(scan(offer), "configured");
            }
            case SOFT_DIRTY -> {
                if (offer.softDirtyRange() == null) {
                    throw unavailable("soft-dirty requested, but the driver offers no process mapping of the guest RAM");
                }
                String whyNot = softDirtyUnavailable(probe);
                if (whyNot != null) {
                    throw unavailable("soft-dirty requested but unavailable: " + whyNot);
                }
                try {
                    yield chosen(softDirty(offer), "configured");
                } catch (IOException e) {
                    throw unavailable("soft-dirty requested but unavailable: " + SoftDirtySupport.describe(e));
                }
            }
            case AUTO -> auto(offer, probe);
        };
    }

    private static TrackerChoice auto(TrackerOffer offer, Supplier<SoftDirtySupport.Probe> probe) {
        if (offer.exact() != null) {
            return chosen(offer.exact(), "the driver reports the guest's writes");
        }
        String whyNotSoftDirty;
        if (offer.softDirtyRange() == null) {
            whyNotSoftDirty = "the driver offers no process mapping for soft-dirty";
        } else {
            String unsupported = softDirtyUnavailable(probe);
            if (unsupported == null) {
                try {
                    return chosen(softDirty(offer), "the kernel tracks soft-dirty bits");
                } catch (IOException e) {
                    unsupported = SoftDirtySupport.describe(e);
                }
            }
            whyNotSoftDirty = "soft-dirty unavailable: " + unsupported;
        }
        if (offer.ram() == null) {
            throw unavailable("nothing usable: no exact tracker, " + whyNotSoftDirty
                    + ", and no mapped guest RAM to scan");
        }
        return chosen(scan(offer), whyNotSoftDirty);
    }

    /** Null when soft-dirty works, else the probe's reason. */
    private static String softDirtyUnavailable(Supplier<SoftDirtySupport.Probe> probe) {
        SoftDirtySupport.Probe result = probe.get();
        return result.supported() ? null : result.reason();
    }

    private static DirtyTracker scan(TrackerOffer offer) {
        return new ScanTracker(offer.ram(), offer.pageSizeBytes(), offer.scanThreads());
    }

    private static DirtyTracker softDirty(TrackerOffer offer) throws IOException {
        TrackerOffer.SoftDirtyRange range = offer.softDirtyRange();
        return new SoftDirtyTracker(range.pid(), range.startAddress(), range.lengthBytes(), offer.pageSizeBytes());
    }

    private static TrackerChoice chosen(DirtyTracker tracker, String why) {
        return new TrackerChoice(tracker, PREFIX + tracker.name() + " (" + why + ")");
    }

    private static IllegalStateException unavailable(String why) {
        return new IllegalStateException(PREFIX + why);
    }
}
