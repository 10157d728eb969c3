package io.checkpointd.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS on the replication connection ({@code replication.tls}, {@code replication.tls-dir},
 * {@code replication.backup-name}). On by default: plain TCP needs an explicit {@code replication.tls: off},
 * and then only on loopback.
 *
 * @param enabled    mutual TLS 1.3 on the replication connection
 * @param dir        this host's folder: ca.pem, cert.pem, key.pem (null: not configured)
 * @param backupName the name the primary requires in the backup's certificate
 */
public record TlsConfig(boolean enabled, Path dir, String backupName) {

    public TlsConfig {
        Objects.requireNonNull(backupName, "backupName");
    }

    public static TlsConfig defaults() {
        return new TlsConfig(true, null, "backup");
    }

    /** Plain TCP, for loopback labs and tests. */
    public static TlsConfig off() {
        return new TlsConfig(false, null, "backup");
    }

    public TlsConfig withDir(Path dir) {
        return new TlsConfig(true, dir, backupName);
    }

    public TlsConfig withEnabled(boolean enabled) {
        return new TlsConfig(enabled, dir, backupName);
    }

    public TlsConfig withBackupName(String backupName) {
        return new TlsConfig(enabled, dir, backupName);
    }
}
