package io.checkpointd.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where a backup keeps its replicas, and which domains it agreed to host.
 *
 * @param dir     the directory for the replica RAM file, device state and activation record; the loader
 *                resolves a relative path against the config file's directory
 * @param domains the domains this backup hosts, each with the names of the primaries allowed to protect it
 *                (names in their TLS certificates); a HELLO for any other domain, or from another primary,
 *                is refused. Empty by default: a backup hosts nothing its operator did not name.
 * @param maxRamBytes the largest guest RAM a HELLO may announce here (the host's memory bounds it too)
 */
public record BackupConfig(Path dir, Map<String, List<String>> domains, long maxRamBytes) {

    static final Range MAX_RAM_BYTES = Range.bytes(1L << 20, 1L << 50);
    static final long DEFAULT_MAX_RAM_BYTES = 256L << 30;

    public BackupConfig {
        Objects.requireNonNull(dir, "dir");
        domains = Map.copyOf(domains);
    }

    public BackupConfig(Path dir) {
        this(dir, Map.of(), DEFAULT_MAX_RAM_BYTES);
    }

    public static BackupConfig defaults() {
        return new BackupConfig(Path.of("/var/lib/checkpointd"));
    }

    public BackupConfig withDir(Path dir) {
        return new BackupConfig(dir, domains, maxRamBytes);
    }

    /** Hosts {@code domain} for the primaries named {@code primaries} (added to what is there). */
    public BackupConfig allowing(String domain, List<String> primaries) {
        Map<String, List<String>> more = new java.util.HashMap<>(domains);
        more.put(domain, List.copyOf(primaries));
        return new BackupConfig(dir, more, maxRamBytes);
    }
}
