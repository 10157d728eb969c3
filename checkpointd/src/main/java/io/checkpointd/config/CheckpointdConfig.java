package io.checkpointd.config;

import java.util.Objects;

/**
 * The whole configuration of one daemon, one record per concern. Immutable; {@link ConfigLoader} builds
 * and validates it once at start, and tests or command-line flags override single values with the
 * {@code with...} methods (then run {@link ConfigValidator#validate} again if the values came from a user).
 */
public record CheckpointdConfig(DomainConfig domain, EpochConfig epoch, ReplicationConfig replication,
                                NetBufferConfig netBuffer, SimConfig sim, BackupConfig backup,
                                FailureDetectorConfig failureDetector, PreCopyConfig preCopy, MetricsConfig metrics,
                                LibvirtConfig libvirt) {

    public CheckpointdConfig {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(epoch, "epoch");
        Objects.requireNonNull(replication, "replication");
        Objects.requireNonNull(netBuffer, "netBuffer");
        Objects.requireNonNull(sim, "sim");
        Objects.requireNonNull(backup, "backup");
        Objects.requireNonNull(failureDetector, "failureDetector");
        Objects.requireNonNull(preCopy, "preCopy");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(libvirt, "libvirt");
    }

    /** Every value at its default: what an empty or absent config file means. Valid. */
    public static CheckpointdConfig defaults() {
        return new CheckpointdConfig(DomainConfig.defaults(), EpochConfig.defaults(), ReplicationConfig.defaults(),
                NetBufferConfig.defaults(), SimConfig.defaults(), BackupConfig.defaults(),
                FailureDetectorConfig.defaults(), PreCopyConfig.defaults(), MetricsConfig.defaults(),
                LibvirtConfig.defaults());
    }

    public CheckpointdConfig withDomain(DomainConfig domain) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }

    public CheckpointdConfig withEpoch(EpochConfig epoch) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }

    public CheckpointdConfig withReplication(ReplicationConfig replication) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }

    public CheckpointdConfig withNetBuffer(NetBufferConfig netBuffer) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }

    public CheckpointdConfig withSim(SimConfig sim) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }

    public CheckpointdConfig withBackup(BackupConfig backup) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }

    public CheckpointdConfig withFailureDetector(FailureDetectorConfig failureDetector) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }

    public CheckpointdConfig withPreCopy(PreCopyConfig preCopy) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }

    public CheckpointdConfig withMetrics(MetricsConfig metrics) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }

    public CheckpointdConfig withLibvirt(LibvirtConfig libvirt) {
        return new CheckpointdConfig(domain, epoch, replication, netBuffer, sim, backup, failureDetector, preCopy, metrics,
                libvirt);
    }
}
