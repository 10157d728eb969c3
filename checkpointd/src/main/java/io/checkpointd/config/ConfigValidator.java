package io.checkpointd.config;

import java.util.Objects;

/**
 * Checks a {@link CheckpointdConfig} against every range and cross-field rule, reporting the YAML key of
 * the first violation. {@link ConfigLoader} runs it on every file it loads; run it again on a config
 * whose values were overridden from user input (command-line flags), naming that input as the source.
 */
public final class ConfigValidator {

    private ConfigValidator() {
    }

    /**
     * @param source where the values came from, for messages: a file name or {@code command line}
     * @return {@code config}, so a load can end with {@code return validate(config, source)}
     * @throws ConfigException naming {@code source} and the YAML key path of the first rule broken
     */
    public static CheckpointdConfig validate(CheckpointdConfig config, String source) throws ConfigException {
        Objects.requireNonNull(source, "source");
        Checks checks = new Checks(source);
        domain(checks, config.domain());
        epoch(checks, config.epoch());
        replication(checks, config.replication());
        netBuffer(checks, config.netBuffer());
        sim(checks, config.sim());
        backup(checks, config.backup());
        failureDetector(checks, config.failureDetector());
        preCopy(checks, config.preCopy());
        libvirt(checks, config.libvirt(), config.domain());
        // Last: these compare values already known to be in range.
        simCrossChecks(checks, config.sim());
        frameFitsBatch(checks, config.replication(), config.sim());
        return config;
    }

    private static void domain(Checks c, DomainConfig d) throws ConfigException {
        String name = d.name();
        if (name.isBlank()) {
            c.fail("domain.name", "empty; write the domain's name, e.g. demo");
        }
        // The name travels in HELLO frames and metrics labels and may name files on the backup.
        if (name.length() > DomainConfig.MAX_NAME_CHARS || name.equals(".") || name.equals("..")
                || name.chars().anyMatch(ch -> ch == '/' || Character.isISOControl(ch))) {
            c.fail("domain.name", "'" + name + "' is not a usable name; use up to " + DomainConfig.MAX_NAME_CHARS
                    + " characters without '/' or control characters");
        }
        if (!DomainConfig.DIRTY_TRACKERS.contains(d.dirtyTracker())) {
            c.fail("domain.dirty-tracker", "'" + d.dirtyTracker() + "' is not a tracker; write "
                    + String.join(", ", DomainConfig.DIRTY_TRACKERS));
        }
        if (!DomainConfig.DRIVERS.contains(d.driver())) {
            c.fail("domain.driver", "'" + d.driver() + "' is not a driver; write "
                    + String.join(" or ", DomainConfig.DRIVERS));
        }
    }

    private static void failureDetector(Checks c, FailureDetectorConfig f) throws ConfigException {
        c.range("failure-detector.heartbeat-interval", f.heartbeatIntervalNs(), FailureDetectorConfig.INTERVAL_NS);
        c.range("failure-detector.suspect-after", f.suspectAfterNs(), FailureDetectorConfig.SUSPECT_NS);
        c.range("failure-detector.dead-after", f.deadAfterNs(), FailureDetectorConfig.DEAD_NS);
        if (f.suspectAfterNs() <= f.heartbeatIntervalNs()) {
            c.fail("failure-detector.suspect-after", Units.formatDuration(f.suspectAfterNs())
                    + " is not longer than the heartbeat interval " + Units.formatDuration(f.heartbeatIntervalNs())
                    + "; a peer would be suspect between two heartbeats. Use at least 2 intervals, e.g. "
                    + Units.formatDuration(3 * f.heartbeatIntervalNs()));
        }
        if (f.deadAfterNs() <= f.suspectAfterNs()) {
            c.fail("failure-detector.dead-after", Units.formatDuration(f.deadAfterNs())
                    + " is not longer than suspect-after " + Units.formatDuration(f.suspectAfterNs())
                    + "; write a longer time, e.g. " + Units.formatDuration(3 * f.suspectAfterNs()));
        }
    }

    private static void preCopy(Checks c, PreCopyConfig p) throws ConfigException {
        c.range("pre-copy.few-pages", p.fewPages(), PreCopyConfig.FEW_PAGES);
        c.range("pre-copy.max-rounds", p.maxRounds(), PreCopyConfig.MAX_ROUNDS);
        c.range("pre-copy.max-ram-multiple", p.maxRamMultiple(), PreCopyConfig.MAX_RAM_MULTIPLE);
        c.range("pre-copy.sigma-after-rounds", p.sigmaAfterRounds(), PreCopyConfig.SIGMA_AFTER_ROUNDS);
        c.range("pre-copy.sigma-window", p.sigmaWindowRounds(), PreCopyConfig.SIGMA_WINDOW_ROUNDS);
        c.range("pre-copy.sigma-low", p.sigmaLowPages(), PreCopyConfig.SIGMA_PAGES);
        c.range("pre-copy.sigma-high", p.sigmaHighPages(), PreCopyConfig.SIGMA_PAGES);
        if (p.sigmaHighPages() < p.sigmaLowPages()) {
            c.fail("pre-copy.sigma-high", p.sigmaHighPages() + " is below sigma-low " + p.sigmaLowPages()
                    + "; the band is [sigma-low, sigma-high]");
        }
    }

    private static void epoch(Checks c, EpochConfig e) throws ConfigException {
        c.range("epoch.interval", e.intervalNs(), EpochConfig.INTERVAL_NS);
        c.range("epoch.max-in-flight", e.maxInFlight(), EpochConfig.MAX_IN_FLIGHT);
        if (!EpochConfig.FULL_SYNC_MODES.contains(e.fullSync())) {
            c.fail("epoch.full-sync", "'" + e.fullSync() + "' is not a mode; write "
                    + String.join(" or ", EpochConfig.FULL_SYNC_MODES));
        }
    }

    private static void replication(Checks c, ReplicationConfig r) throws ConfigException {
        if (r.backup().port() == 0) {
            c.fail("replication.backup", "port 0 cannot be connected to; write the port the backup listens on, e.g. "
                    + r.backup().withPort(ReplicationConfig.defaults().backup().port()));
        }
        c.range("replication.batch-pages", r.batchPages(), ReplicationConfig.BATCH_PAGES);
        c.range("replication.max-frame", r.maxFrameBytes(), ReplicationConfig.MAX_FRAME_BYTES);
        c.range("replication.connect-timeout", r.connectTimeoutNs(), ReplicationConfig.CONNECT_TIMEOUT_NS);
    }

    private static void netBuffer(Checks c, NetBufferConfig n) throws ConfigException {
        c.range("net-buffer.max-held", n.maxHeldBytes(), NetBufferConfig.MAX_HELD_BYTES);
        c.range("net-buffer.max-held-frames", n.maxHeldFrames(), NetBufferConfig.MAX_HELD_FRAMES);
    }

    private static void sim(Checks c, SimConfig s) throws ConfigException {
        c.range("sim.ram", s.ramBytes(), SimConfig.RAM_BYTES);
        c.range("sim.page-size", s.pageSizeBytes(), SimConfig.PAGE_SIZE_BYTES);
        if (Integer.bitCount(s.pageSizeBytes()) != 1) {
            int below = Integer.highestOneBit(s.pageSizeBytes());
            c.fail("sim.page-size", "'" + Units.formatBytes(s.pageSizeBytes()) + "' is not a power of two; write "
                    + Units.formatBytes(below) + " or " + Units.formatBytes(below * 2L));
        }
        c.range("sim.dirty-rate", s.dirtyPagesPerSecond(), SimConfig.DIRTY_PAGES_PER_SECOND);
        c.range("sim.hot-set", s.hotSetBytes(), SimConfig.HOT_SET_BYTES);
        if (!(s.hotFraction() >= 0 && s.hotFraction() <= 1)) {
            c.fail("sim.hot-fraction", "'" + YamlSection.plain(s.hotFraction())
                    + "' is out of range; write a number from 0 to 1");
        }
        c.range("sim.writer-threads", s.writerThreads(), SimConfig.WRITER_THREADS);
        c.range("sim.service-port", s.servicePort(), SimConfig.SERVICE_PORT);
        c.range("sim.keys", s.keys(), SimConfig.KEYS);
        c.range("sim.disk", s.diskBytes(), SimConfig.DISK_BYTES);
        if (s.diskBytes() % 4096 != 0 || (s.diskBytes() > 0 && s.diskBytes() < (1 << 20))) {
            c.fail("sim.disk", s.diskBytes() + " bytes is not 0 or a whole number of 4KiB blocks of at least 1MiB;"
                    + " write e.g. 64MiB, or 0 for no disk");
        }
    }

    private static void backup(Checks c, BackupConfig b) throws ConfigException {
        if (b.dir().toString().isEmpty()) {
            c.fail("backup.dir", "empty; write a directory, e.g. " + BackupConfig.defaults().dir());
        }
    }

    private static void libvirt(Checks c, LibvirtConfig l, DomainConfig d) throws ConfigException {
        if (l.uri().isBlank()) {
            c.fail("libvirt.uri", "empty; write a libvirt URI, e.g. " + LibvirtConfig.defaults().uri());
        }
        if (l.tap().length() > LibvirtConfig.MAX_TAP_CHARS || l.tap().contains("/") || l.tap().contains(" ")) {
            c.fail("libvirt.tap", "'" + l.tap() + "' is not an interface name (at most "
                    + LibvirtConfig.MAX_TAP_CHARS + " characters, no '/' or spaces)");
        }
        if (!l.guestIpv4().isEmpty() && !l.guestIpv4().matches(
                "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)")) {
            c.fail("libvirt.guest-ipv4", "'" + l.guestIpv4() + "' is not an IPv4 address such as 10.0.0.2");
        }
        if (l.qemuUser().isBlank()) {
            c.fail("libvirt.qemu-user", "empty; write the user QEMU runs as, e.g. libvirt-qemu (see user= in "
                    + "/etc/libvirt/qemu.conf)");
        }
        if (l.restoredName().contains("/") || l.restoredName().length() > DomainConfig.MAX_NAME_CHARS) {
            c.fail("libvirt.restored-name", "'" + l.restoredName() + "' is not a domain name (at most "
                    + DomainConfig.MAX_NAME_CHARS + " characters, no '/')");
        }
        if (DomainConfig.LIBVIRT.equals(d.driver()) && l.hasDisk() && !l.diskImage().isAbsolute()) {
            c.fail("libvirt.disk-image", "'" + l.diskImage() + "' is not an absolute path");
        }
    }

    private static void simCrossChecks(Checks c, SimConfig s) throws ConfigException {
        long page = s.pageSizeBytes();
        if (s.ramBytes() % page != 0) {
            long below = s.ramBytes() / page * page;
            String fix = below >= SimConfig.RAM_BYTES.min() ? Units.formatBytes(below) + " or " : "";
            c.fail("sim.ram", "'" + Units.formatBytes(s.ramBytes()) + "' is not a multiple of sim.page-size ("
                    + Units.formatBytes(page) + "); write " + fix + Units.formatBytes(below + page));
        }
        if (s.hotSetBytes() < page || s.hotSetBytes() > s.ramBytes()) {
            c.fail("sim.hot-set", "'" + Units.formatBytes(s.hotSetBytes()) + "' is outside one page ("
                    + Units.formatBytes(page) + ") to sim.ram (" + Units.formatBytes(s.ramBytes())
                    + "); write a size in that range");
        }
        if (s.dirtyPagesPerSecond() > 0 && s.writerThreads() == 0) {
            c.fail("sim.writer-threads", "0 threads cannot dirty " + s.dirtyPagesPerSecond()
                    + " pages/s (sim.dirty-rate); write 1 or more, or set sim.dirty-rate to 0");
        }
        long keyBytes = (long) s.keys() * SimConfig.KEY_SLOT_BYTES;
        if (keyBytes > s.ramBytes()) {
            c.fail("sim.keys", s.keys() + " keys need " + Units.formatBytes(keyBytes) + " (" + SimConfig.KEY_SLOT_BYTES
                    + " bytes each) but sim.ram is " + Units.formatBytes(s.ramBytes()) + "; write at most "
                    + s.ramBytes() / SimConfig.KEY_SLOT_BYTES + " or raise sim.ram");
        }
    }

    /** A full batch of pages must fit one frame, or the primary could never send it. */
    private static void frameFitsBatch(Checks c, ReplicationConfig r, SimConfig s) throws ConfigException {
        long needed = ReplicationConfig.bytesForBatch(r.batchPages(), s.pageSizeBytes());
        if (needed <= r.maxFrameBytes()) {
            return;
        }
        int fitting = r.batchPages();
        while (fitting > 0 && ReplicationConfig.bytesForBatch(fitting, s.pageSizeBytes()) > r.maxFrameBytes()) {
            fitting--;
        }
        long roundedUp = (needed + (1L << 20) - 1) >>> 20 << 20;
        String raise = roundedUp <= ReplicationConfig.MAX_FRAME_BYTES.max()
                ? "raise it to " + Units.formatBytes(roundedUp) + " or " : "";
        String lower = fitting > 0 ? "lower replication.batch-pages to " + fitting
                                   : "lower sim.page-size";
        c.fail("replication.max-frame", "'" + Units.formatBytes(r.maxFrameBytes()) + "' cannot hold a batch of "
                + r.batchPages() + " pages of " + Units.formatBytes(s.pageSizeBytes())
                + " (sim.page-size), which needs " + Units.formatBytes(needed) + "; " + raise + lower);
    }

    /** Builds the exceptions, so each rule reads as one line. */
    private record Checks(String source) {

        void range(String keyPath, long value, Range range) throws ConfigException {
            if (!range.contains(value)) {
                fail(keyPath, range.outOfRange(range.format(value)));
            }
        }

        void fail(String keyPath, String detail) throws ConfigException {
            throw new ConfigException(source, keyPath, detail);
        }
    }
}
