package io.checkpointd.cli;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.HostPort;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options {@code primary} and {@code protect} share: where the backup is, the epoch, the summary file. */
final class ProtectionOptions {
    @Option(names = "--backup", paramLabel = "HOST:PORT", converter = Converters.Address.class,
            description = "The backup's replication address (replication.backup).")
    HostPort backup;

    @Option(names = "--epoch", paramLabel = "DURATION", converter = Converters.DurationNs.class,
            description = "Time the guest runs between checkpoints, e.g. 100ms (epoch.interval).")
    Long epochNs;

    @Option(names = "--summary-file", paramLabel = "FILE", description = "Written at exit: a JSON summary of the run.")
    Path summaryFile;

    @Mixin
    TlsOptions tls;

    CheckpointdConfig applyOverrides(CheckpointdConfig c) {
        c = tls.applyOverrides(c);
        if (backup != null) {
            c = c.withReplication(c.replication().withBackup(backup));
        }
        if (epochNs != null) {
            c = c.withEpoch(c.epoch().withIntervalNs(epochNs));
        }
        return c;
    }
}
