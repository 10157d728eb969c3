package io.checkpointd.cli;

import io.checkpointd.config.CheckpointdConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The TLS options every daemon command takes. */
final class TlsOptions {
    @Option(names = "--tls-dir", paramLabel = "DIR",
            description = "This host's TLS folder: ca.pem, cert.pem, key.pem (replication.tls-dir); "
                    + "'checkpointd certs init' makes a lab set. TLS is on unless the config says replication.tls: off.")
    Path tlsDir;

    @Option(names = "--backup-name", paramLabel = "NAME",
            description = "The name the backup's certificate must carry (replication.backup-name, default 'backup').")
    String backupName;

    CheckpointdConfig applyOverrides(CheckpointdConfig c) {
        if (tlsDir != null) {
            c = c.withReplication(c.replication().withTls(c.replication().tls().withDir(tlsDir.toAbsolutePath())));
        }
        if (backupName != null) {
            c = c.withReplication(c.replication().withTls(c.replication().tls().withBackupName(backupName)));
        }
        return c;
    }
}
