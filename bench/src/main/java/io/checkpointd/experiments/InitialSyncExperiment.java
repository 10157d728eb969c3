package io.checkpointd.experiments;

import io.checkpointd.util.FileTrees;
import io.checkpointd.backup.BackupDaemon;
import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.ConfigValidator;
import io.checkpointd.config.EpochConfig;
import io.checkpointd.config.HostPort;
import io.checkpointd.config.TlsConfig;
import io.checkpointd.config.Units;
import io.checkpointd.primary.InitialSyncStats;
import io.checkpointd.primary.PrimaryDaemon;
import io.checkpointd.launch.LaunchContext;
import io.checkpointd.sim.SimDriver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.List;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The first pause of a protected guest, with the full checkpoint copied live (pre-copy rounds, then one
 * ordinary pause) against copied in one pause, measured one after the other in one run on the same
 * machine: a sim guest of the given size dirtying pages at the given rate, a real primary and backup on
 * loopback. Prints both and their ratio.
 *
 * <p>Usage: {@code bin/experiment initial-sync [RAM, default 1GiB] [dirty pages/s, default 20000]}
 */
public final class InitialSyncExperiment {
    private InitialSyncExperiment() {
    }

    record Result(String mode, long pauseNs, InitialSyncStats stats, long syncNs) {
    }

    public static void main(String[] args) throws Exception {
        long ramBytes = args.length > 0 ? Units.parseBytes(args[0]) : 1L << 30;
        long dirtyRate = args.length > 1 ? Long.parseLong(args[1]) : 20_000;
        System.out.printf("initial sync of a %s sim guest dirtying %d pages/s (hot set 32MiB)%n",
                Units.formatBytes(ramBytes), dirtyRate);
        Result live = run(EpochConfig.LIVE, ramBytes, dirtyRate);
        Result paused = run(EpochConfig.PAUSED, ramBytes, dirtyRate);
        for (Result r : new Result[] {live, paused}) {
            System.out.printf("  %-6s first pause %10.3f ms   rounds %2d   pages per round %s   stop: %s   (%.1f s to the first commit)%n",
                    r.mode(), r.pauseNs() / 1e6, r.stats().pagesPerRound().size(), r.stats().pagesPerRound(),
                    r.stats().stopReason(), r.syncNs() / 1e9);
        }
        System.out.printf("  paused / live first pause: %.1fx%n", (double) paused.pauseNs() / live.pauseNs());
    }

    private static Result run(String mode, long ramBytes, long dirtyRate) throws Exception {
        Path dir = Files.createTempDirectory("checkpointd-initial-sync");
        try {
            CheckpointdConfig base = CheckpointdConfig.defaults();
            CheckpointdConfig config = ConfigValidator.validate(base
                    .withEpoch(base.epoch().withFullSync(mode))
                    .withSim(base.sim().withRamBytes(ramBytes).withDirtyPagesPerSecond(dirtyRate).withServicePort(0))
                    .withReplication(base.replication().withListen(new HostPort("127.0.0.1", 0)).withTls(TlsConfig.off()))
                    .withBackup(base.backup().withDir(dir.resolve("backup"))
                            .allowing(base.domain().name(), List.of("primary"))), "experiment");
            try (BackupDaemon backup = BackupDaemon.launch(new LaunchContext().config(config)
                    .driver(new SimDriver(config, dir.resolve("backup"))))) {
                CheckpointdConfig primaryConfig = config.withReplication(config.replication()
                        .withBackup(new HostPort("127.0.0.1", ((InetSocketAddress) backup.address()).getPort())));
                long startNs = System.nanoTime();
                Files.createDirectories(dir.resolve("primary"));
                try (PrimaryDaemon primary = PrimaryDaemon.launch(new LaunchContext().config(primaryConfig)
                        .driver(new SimDriver(primaryConfig, dir.resolve("primary"))))) {
                    long deadline = startNs + TimeUnit.MINUTES.toNanos(5);
                    while (primary.metrics().committed() < 1) {
                        if (System.nanoTime() - deadline > 0) {
                            throw new IllegalStateException(mode + ": no checkpoint committed within 5 minutes");
                        }
                        Thread.sleep(5);
                    }
                    long syncNs = System.nanoTime() - startNs;
                    InitialSyncStats stats = primary.initialSync();
                    return new Result(mode, stats.pauseNs(), stats, syncNs);
                }
            }
        } finally {
            FileTrees.delete(dir);
        }
    }
}
