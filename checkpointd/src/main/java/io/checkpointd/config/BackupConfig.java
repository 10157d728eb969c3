package io.checkpointd.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a backup keeps its replica.
 *
 * @param dir the directory for the replica RAM file, device state and activation record; the loader
 *            resolves a relative path against the config file's directory
 */
public record BackupConfig(Path dir) {

    public BackupConfig {
        Objects.requireNonNull(dir, "dir");
    }

    public static BackupConfig defaults() {
        return new BackupConfig(Path.of("/var/lib/checkpointd"));
    }

    public BackupConfig withDir(Path dir) {
        return new BackupConfig(dir);
    }
}
