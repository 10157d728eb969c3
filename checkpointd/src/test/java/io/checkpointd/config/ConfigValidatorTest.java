package io.checkpointd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Values overridden in code (tests, command-line flags) get the same checks as values from a file. */
class ConfigValidatorTest {

    private static final CheckpointdConfig D = CheckpointdConfig.defaults();
    private static final String SOURCE = "command line";

    @Test
    void withersReplaceExactlyOneField() {
        DomainConfig domain = D.domain();
        assertThat(domain.withName("x")).isEqualTo(new DomainConfig("x", domain.driver(), domain.dirtyTracker()));
        assertThat(domain.withDriver("libvirt")).isEqualTo(new DomainConfig(domain.name(), "libvirt", domain.dirtyTracker()));

        EpochConfig epoch = D.epoch();
        assertThat(epoch.withIntervalNs(7)).isEqualTo(new EpochConfig(7, epoch.maxInFlight(), epoch.fullSync()));
        assertThat(epoch.withMaxInFlight(7)).isEqualTo(new EpochConfig(epoch.intervalNs(), 7, epoch.fullSync()));

        ReplicationConfig r = D.replication();
        HostPort other = new HostPort("h", 1);
        assertThat(r.withBackup(other)).isEqualTo(new ReplicationConfig(other, r.listen(), r.compression(),
                r.batchPages(), r.maxFrameBytes(), r.connectTimeoutNs()));
        assertThat(r.withListen(other)).isEqualTo(new ReplicationConfig(r.backup(), other, r.compression(),
                r.batchPages(), r.maxFrameBytes(), r.connectTimeoutNs()));
        assertThat(r.withCompression(Compression.NONE)).isEqualTo(new ReplicationConfig(r.backup(), r.listen(),
                Compression.NONE, r.batchPages(), r.maxFrameBytes(), r.connectTimeoutNs()));
        assertThat(r.withBatchPages(7)).isEqualTo(new ReplicationConfig(r.backup(), r.listen(), r.compression(),
                7, r.maxFrameBytes(), r.connectTimeoutNs()));
        assertThat(r.withMaxFrameBytes(7)).isEqualTo(new ReplicationConfig(r.backup(), r.listen(), r.compression(),
                r.batchPages(), 7, r.connectTimeoutNs()));
        assertThat(r.withConnectTimeoutNs(7)).isEqualTo(new ReplicationConfig(r.backup(), r.listen(),
                r.compression(), r.batchPages(), r.maxFrameBytes(), 7));

        NetBufferConfig n = D.netBuffer();
        assertThat(n.withOutputCommit(false)).isEqualTo(new NetBufferConfig(false, n.maxHeldBytes(), n.maxHeldFrames()));
        assertThat(n.withMaxHeldBytes(7)).isEqualTo(new NetBufferConfig(n.outputCommit(), 7, n.maxHeldFrames()));
        assertThat(n.withMaxHeldFrames(7)).isEqualTo(new NetBufferConfig(n.outputCommit(), n.maxHeldBytes(), 7));

        SimConfig s = D.sim();
        assertThat(s.withRamBytes(7)).isEqualTo(new SimConfig(7, s.pageSizeBytes(), s.dirtyPagesPerSecond(),
                s.hotSetBytes(), s.hotFraction(), s.writerThreads(), s.servicePort(), s.keys()));
        assertThat(s.withPageSizeBytes(7)).isEqualTo(new SimConfig(s.ramBytes(), 7, s.dirtyPagesPerSecond(),
                s.hotSetBytes(), s.hotFraction(), s.writerThreads(), s.servicePort(), s.keys()));
        assertThat(s.withDirtyPagesPerSecond(7)).isEqualTo(new SimConfig(s.ramBytes(), s.pageSizeBytes(), 7,
                s.hotSetBytes(), s.hotFraction(), s.writerThreads(), s.servicePort(), s.keys()));
        assertThat(s.withHotSetBytes(7)).isEqualTo(new SimConfig(s.ramBytes(), s.pageSizeBytes(),
                s.dirtyPagesPerSecond(), 7, s.hotFraction(), s.writerThreads(), s.servicePort(), s.keys()));
        assertThat(s.withHotFraction(0.25)).isEqualTo(new SimConfig(s.ramBytes(), s.pageSizeBytes(),
                s.dirtyPagesPerSecond(), s.hotSetBytes(), 0.25, s.writerThreads(), s.servicePort(), s.keys()));
        assertThat(s.withWriterThreads(7)).isEqualTo(new SimConfig(s.ramBytes(), s.pageSizeBytes(),
                s.dirtyPagesPerSecond(), s.hotSetBytes(), s.hotFraction(), 7, s.servicePort(), s.keys()));
        assertThat(s.withServicePort(7)).isEqualTo(new SimConfig(s.ramBytes(), s.pageSizeBytes(),
                s.dirtyPagesPerSecond(), s.hotSetBytes(), s.hotFraction(), s.writerThreads(), 7, s.keys()));
        assertThat(s.withKeys(7)).isEqualTo(new SimConfig(s.ramBytes(), s.pageSizeBytes(),
                s.dirtyPagesPerSecond(), s.hotSetBytes(), s.hotFraction(), s.writerThreads(), s.servicePort(), 7));

        assertThat(D.backup().withDir(Path.of("/x"))).isEqualTo(new BackupConfig(Path.of("/x")));

        assertThat(D.withDomain(domain.withName("x")).domain().name()).isEqualTo("x");
        assertThat(D.withEpoch(epoch.withMaxInFlight(7)).epoch().maxInFlight()).isEqualTo(7);
        assertThat(D.withReplication(r.withBatchPages(7)).replication().batchPages()).isEqualTo(7);
        assertThat(D.withNetBuffer(n.withMaxHeldFrames(7)).netBuffer().maxHeldFrames()).isEqualTo(7);
        assertThat(D.withSim(s.withKeys(7)).sim().keys()).isEqualTo(7);
        assertThat(D.withBackup(new BackupConfig(Path.of("/x"))).backup().dir()).isEqualTo(Path.of("/x"));
    }

    @Test
    void validOverridesPass() throws ConfigException {
        CheckpointdConfig fast = D.withEpoch(D.epoch().withIntervalNs(1_000_000L))
                .withReplication(D.replication().withListen(new HostPort("127.0.0.1", 0)))
                .withSim(D.sim().withServicePort(0).withDirtyPagesPerSecond(0).withWriterThreads(0));

        assertThat(ConfigValidator.validate(fast, SOURCE)).isSameAs(fast);
    }

    static List<Arguments> badOverrides() {
        return List.of(
                bad(c -> c.withEpoch(c.epoch().withIntervalNs(0)), "epoch.interval",
                        "'0s' is out of range; write a duration from 1ms to 10s"),
                bad(c -> c.withEpoch(c.epoch().withMaxInFlight(0)), "epoch.max-in-flight",
                        "'0' is out of range; write a whole number from 1 to 64"),
                bad(c -> c.withDomain(c.domain().withName(" ")), "domain.name", "empty; write the domain's name"),
                bad(c -> c.withDomain(c.domain().withDriver("xen")), "domain.driver",
                        "'xen' is not a driver; write sim or libvirt"),
                bad(c -> c.withReplication(c.replication().withBackup(new HostPort("b", 0))), "replication.backup",
                        "port 0 cannot be connected to; write the port the backup listens on, e.g. b:7410"),
                bad(c -> c.withReplication(c.replication().withMaxFrameBytes(1L << 30)), "replication.max-frame",
                        "'1GiB' is out of range; write a size from 64KiB to 64MiB"),
                bad(c -> c.withNetBuffer(c.netBuffer().withMaxHeldFrames(0)), "net-buffer.max-held-frames",
                        "'0' is out of range; write a whole number from 1 to 16777216"),
                bad(c -> c.withSim(c.sim().withPageSizeBytes(6000)), "sim.page-size",
                        "'6000B' is not a power of two; write 4KiB or 8KiB"),
                bad(c -> c.withSim(c.sim().withHotFraction(Double.NaN)), "sim.hot-fraction",
                        "'NaN' is out of range; write a number from 0 to 1"),
                bad(c -> c.withSim(c.sim().withHotSetBytes(0)), "sim.hot-set", "'0B' is outside one page (4KiB)"),
                bad(c -> c.withSim(c.sim().withPageSizeBytes(2 << 20)), "replication.max-frame",
                        "'4MiB' cannot hold a batch of 64 pages of 2MiB (sim.page-size), which needs 134744856B; "
                                + "lower replication.batch-pages to 1"),
                bad(c -> c.withBackup(new BackupConfig(Path.of(""))), "backup.dir", "empty; write a directory"));
    }

    private static Arguments bad(UnaryOperator<CheckpointdConfig> override, String keyPath, String detail) {
        return Arguments.of(override, keyPath, detail);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badOverrides")
    void badOverridesNameTheSourceAndKey(UnaryOperator<CheckpointdConfig> override, String keyPath, String detail) {
        assertThatThrownBy(() -> ConfigValidator.validate(override.apply(D), SOURCE))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo(keyPath);
                    assertThat(e.getMessage()).startsWith(SOURCE + ": " + keyPath + ": ").contains(detail);
                });
    }

    @Test
    void bytesForBatchCoversLz4WorstCaseAndPageNumbers() {
        long data = 64L * 4096;
        assertThat(ReplicationConfig.bytesForBatch(64, 4096))
                .isEqualTo(data + data / 255 + 16 + 64 * Long.BYTES + ReplicationConfig.FRAME_HEADER_BYTES);
        assertThat(ReplicationConfig.bytesForBatch(64, 4096)).isLessThanOrEqualTo(D.replication().maxFrameBytes());
    }

    @Test
    void suggestionsCatchTyposNotOtherWords() {
        List<String> keys = List.of("interval", "max-in-flight");
        assertThat(Suggestions.closest("intreval", keys)).contains("interval");
        assertThat(Suggestions.closest("max_in_flight", keys)).contains("max-in-flight");
        assertThat(Suggestions.closest("maxInFlight", keys)).contains("max-in-flight");
        assertThat(Suggestions.closest("period", keys)).isEmpty();
    }
}
