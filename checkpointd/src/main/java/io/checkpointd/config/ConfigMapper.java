package io.checkpointd.config;

import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Turns a parsed YAML tree into a {@link CheckpointdConfig}, one section at a time. This is the one place
 * that names the YAML keys: each record field has its key here, with its default and allowed range.
 * Absent keys take the default of {@link CheckpointdConfig#defaults()}.
 */
final class ConfigMapper {

    private static final List<String> COMPRESSIONS =
            List.of(Compression.LZ4.name().toLowerCase(Locale.ROOT), Compression.NONE.name().toLowerCase(Locale.ROOT));

    private ConfigMapper() {
    }

    /**
     * @param source  the file name for messages
     * @param baseDir what relative paths in the file are relative to: the file's directory
     */
    static CheckpointdConfig map(JsonNode tree, String source, Path baseDir) throws ConfigException {
        YamlSection top = YamlSection.top(source, tree);
        CheckpointdConfig d = CheckpointdConfig.defaults();
        CheckpointdConfig config = new CheckpointdConfig(
                domain(top.section("domain"), d.domain()),
                epoch(top.section("epoch"), d.epoch()),
                replication(top.section("replication"), d.replication(), baseDir),
                netBuffer(top.section("net-buffer"), d.netBuffer()),
                sim(top.section("sim"), d.sim()),
                backup(top.section("backup"), d.backup(), baseDir),
                failureDetector(top.section("failure-detector"), d.failureDetector()),
                preCopy(top.section("pre-copy"), d.preCopy()),
                metrics(top.section("metrics"), d.metrics()),
                libvirt(top.section("libvirt"), d.libvirt(), baseDir));
        top.rejectUnknownKeys();
        return config;
    }

    private static DomainConfig domain(YamlSection s, DomainConfig d) throws ConfigException {
        DomainConfig c = new DomainConfig(
                s.text("name", d.name()),
                s.choice("driver", d.driver(), DomainConfig.DRIVERS),
                s.choice("dirty-tracker", d.dirtyTracker(), DomainConfig.DIRTY_TRACKERS));
        s.rejectUnknownKeys();
        return c;
    }

    private static FailureDetectorConfig failureDetector(YamlSection s, FailureDetectorConfig d)
            throws ConfigException {
        FailureDetectorConfig c = new FailureDetectorConfig(
                s.durationNs("heartbeat-interval", d.heartbeatIntervalNs(), FailureDetectorConfig.INTERVAL_NS),
                s.durationNs("suspect-after", d.suspectAfterNs(), FailureDetectorConfig.SUSPECT_NS),
                s.durationNs("dead-after", d.deadAfterNs(), FailureDetectorConfig.DEAD_NS));
        s.rejectUnknownKeys();
        return c;
    }

    private static PreCopyConfig preCopy(YamlSection s, PreCopyConfig d) throws ConfigException {
        PreCopyConfig c = new PreCopyConfig(
                s.whole("few-pages", d.fewPages(), PreCopyConfig.FEW_PAGES),
                s.integer("max-rounds", d.maxRounds(), PreCopyConfig.MAX_ROUNDS),
                s.integer("max-ram-multiple", d.maxRamMultiple(), PreCopyConfig.MAX_RAM_MULTIPLE),
                s.integer("sigma-after-rounds", d.sigmaAfterRounds(), PreCopyConfig.SIGMA_AFTER_ROUNDS),
                s.integer("sigma-window", d.sigmaWindowRounds(), PreCopyConfig.SIGMA_WINDOW_ROUNDS),
                s.whole("sigma-low", d.sigmaLowPages(), PreCopyConfig.SIGMA_PAGES),
                s.whole("sigma-high", d.sigmaHighPages(), PreCopyConfig.SIGMA_PAGES));
        s.rejectUnknownKeys();
        return c;
    }

    private static MetricsConfig metrics(YamlSection s, MetricsConfig d) throws ConfigException {
        MetricsConfig c = new MetricsConfig(
                s.bool("enabled", d.enabled()),
                s.hostPort("listen", d.listen()));
        s.rejectUnknownKeys();
        return c;
    }

    private static EpochConfig epoch(YamlSection s, EpochConfig d) throws ConfigException {
        EpochConfig c = new EpochConfig(
                s.durationNs("interval", d.intervalNs(), EpochConfig.INTERVAL_NS),
                s.integer("max-in-flight", d.maxInFlight(), EpochConfig.MAX_IN_FLIGHT),
                s.choice("full-sync", d.fullSync(), EpochConfig.FULL_SYNC_MODES));
        s.rejectUnknownKeys();
        return c;
    }

    private static Path tlsDir(YamlSection s, TlsConfig d, Path baseDir) throws ConfigException {
        Path dir = s.optionalPath("tls-dir", baseDir);
        return dir != null ? dir : d.dir();
    }

    private static ReplicationConfig replication(YamlSection s, ReplicationConfig d, Path baseDir)
            throws ConfigException {
        ReplicationConfig c = new ReplicationConfig(
                s.hostPort("backup", d.backup()),
                s.hostPort("listen", d.listen()),
                Compression.valueOf(s.choice("compression", d.compression().name().toLowerCase(Locale.ROOT),
                        COMPRESSIONS).toUpperCase(Locale.ROOT)),
                s.integer("batch-pages", d.batchPages(), ReplicationConfig.BATCH_PAGES),
                s.bytes("max-frame", d.maxFrameBytes(), ReplicationConfig.MAX_FRAME_BYTES),
                s.durationNs("connect-timeout", d.connectTimeoutNs(), ReplicationConfig.CONNECT_TIMEOUT_NS),
                new TlsConfig(s.bool("tls", d.tls().enabled()), tlsDir(s, d.tls(), baseDir),
                        s.text("backup-name", d.tls().backupName())));
        s.rejectUnknownKeys();
        return c;
    }

    private static NetBufferConfig netBuffer(YamlSection s, NetBufferConfig d) throws ConfigException {
        NetBufferConfig c = new NetBufferConfig(
                s.bool("output-commit", d.outputCommit()),
                s.bytes("max-held", d.maxHeldBytes(), NetBufferConfig.MAX_HELD_BYTES),
                s.integer("max-held-frames", d.maxHeldFrames(), NetBufferConfig.MAX_HELD_FRAMES));
        s.rejectUnknownKeys();
        return c;
    }

    private static SimConfig sim(YamlSection s, SimConfig d) throws ConfigException {
        SimConfig c = new SimConfig(
                s.bytes("ram", d.ramBytes(), SimConfig.RAM_BYTES),
                (int) s.bytes("page-size", d.pageSizeBytes(), SimConfig.PAGE_SIZE_BYTES),
                s.whole("dirty-rate", d.dirtyPagesPerSecond(), SimConfig.DIRTY_PAGES_PER_SECOND),
                s.bytes("hot-set", d.hotSetBytes(), SimConfig.HOT_SET_BYTES),
                s.fraction("hot-fraction", d.hotFraction(), 0, 1),
                s.integer("writer-threads", d.writerThreads(), SimConfig.WRITER_THREADS),
                s.integer("service-port", d.servicePort(), SimConfig.SERVICE_PORT),
                s.integer("keys", d.keys(), SimConfig.KEYS),
                s.bytes("disk", d.diskBytes(), SimConfig.DISK_BYTES));
        s.rejectUnknownKeys();
        return c;
    }

    private static BackupConfig backup(YamlSection s, BackupConfig d, Path baseDir) throws ConfigException {
        Map<String, List<String>> domains = s.nameLists("domains");
        BackupConfig c = new BackupConfig(s.path("dir", d.dir(), baseDir), domains.isEmpty() ? d.domains() : domains,
                s.bytes("max-ram", d.maxRamBytes(), BackupConfig.MAX_RAM_BYTES));
        s.rejectUnknownKeys();
        return c;
    }

    private static LibvirtConfig libvirt(YamlSection s, LibvirtConfig d, Path baseDir) throws ConfigException {
        String image = s.optionalText("disk-image", d.hasDisk() ? d.diskImage().toString() : "").strip();
        LibvirtConfig c = new LibvirtConfig(
                s.text("uri", d.uri()),
                s.optionalText("tap", d.tap()),
                image.isEmpty() ? null : baseDir.resolve(image).normalize(),
                s.optionalText("guest-ipv4", d.guestIpv4()),
                s.text("qemu-user", d.qemuUser()),
                s.path("run-dir", d.runDir(), baseDir),
                s.optionalText("restored-name", d.restoredName()),
                s.bool("warm-standby", d.warmStandby()));
        s.rejectUnknownKeys();
        return c;
    }
}
