package io.checkpointd.disk;

import io.checkpointd.disk.nbd.ListenAddress;
import io.checkpointd.disk.nbd.NbdServer;
import io.checkpointd.disk.nbd.NbdServerConfig;
import io.checkpointd.disk.replica.DiskReplica;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static io.checkpointd.disk.QemuTools.qemuIo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole mirror: qemu-io writes through the NBD server (the guest), {@link EpochWriteLog} closes each
 * epoch while no client runs (the guest paused), the epoch's changes go to a {@link DiskReplica} (the
 * backup), which applies them when the checkpoint commits. The primary image's checksum at each closed
 * epoch is what the replica must equal once that epoch is committed. (A backup dying mid-apply in the same
 * setting: {@code replica.BackupCrashEndToEndTest}.)
 */
@Timeout(120)
class MirroringEndToEndTest {
    private static final long SIZE = 8 << 20;
    /** Small, so epochs with more than 256 KiB of changes spill on the backup. */
    private static final long BACKUP_BUFFER_BYTES = 256 << 10;

    @TempDir
    Path dir;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Path primaryImage;
    private Path backupDir;
    private EpochWriteLog writeLog;
    private NbdServer server;
    /** SHA-256 of the primary image when each epoch closed. */
    private final Map<Long, String> primaryAt = new HashMap<>();

    @BeforeEach
    void setUp(TestInfo test) throws IOException {
        QemuTools.assumeInstalled(test);
        primaryImage = Images.create(dir.resolve("primary.img"), SIZE);
        backupDir = dir.resolve("backup");
        writeLog = new EpochWriteLog(64 << 20, registry, Tags.of("disk", "vda"));
        server = NbdServer.start(NbdServerConfig.of("vda", primaryImage,
                new ListenAddress.UnixSocket(dir.resolve("vda.sock"))), writeLog, registry, Tags.of("disk", "vda"));
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
        if (writeLog != null) {
            writeLog.close();
        }
    }

    /** The guest is paused (no qemu-io runs): close the epoch and send its changes to the backup. */
    private EpochWrites closeAndShip(long epoch, DiskReplica backup) throws IOException {
        EpochWrites writes = writeLog.closeEpoch(epoch);
        assertThat(writes.overflowed()).isFalse();
        primaryAt.put(epoch, Images.sha256(primaryImage));
        for (DiskWrite write : writes.writes()) {
            backup.append(epoch, write);
        }
        return writes;
    }

    private String replicaSha() throws IOException {
        return Images.sha256(backupDir.resolve("disk.replica"));
    }

    @Test
    void afterEachCommitTheReplicaEqualsThePrimaryAsOfThatEpoch() throws Exception {
        try (DiskReplica backup = DiskReplica.open(backupDir, SIZE, BACKUP_BUFFER_BYTES)) {
            qemuIo(server.uri(), "write -P 0x11 0 64k", "write -P 0x22 1M 4k", "write -P 0x33 5000 3000");
            EpochWrites epoch1 = closeAndShip(1, backup);
            assertThat(epoch1.writes()).hasSize(3);
            backup.commit(1);
            assertThat(replicaSha()).isEqualTo(primaryAt.get(1L));

            // Epoch 2: more than the backup's memory budget (spills), overwrites, trims, zeroing.
            qemuIo(server.uri(), "write -P 0x44 2M 1M", "write -P 0x55 0 4k", "discard 16k 32k", "write -z 1M 4k",
                    "write -z -u 2M 64k", "write -f -P 0x66 7M 4k");
            closeAndShip(2, backup);
            assertThat(backupDir.resolve("spill-2.log")).exists();
            backup.commit(2);
            assertThat(replicaSha()).isEqualTo(primaryAt.get(2L));
            assertThat(backupDir.resolve("spill-2.log")).doesNotExist();

            // Epoch 3 never commits (its checkpoint was incomplete): discarded, it never reaches the replica.
            qemuIo(server.uri(), "write -P 0x77 0 1M");
            closeAndShip(3, backup);
            backup.discard(3);
            assertThat(replicaSha()).isEqualTo(primaryAt.get(2L)).isNotEqualTo(primaryAt.get(3L));

            // Epoch 4 is shipped but not yet committed when the backup stops.
            qemuIo(server.uri(), "write -P 0x88 4M 64k");
            closeAndShip(4, backup);
            assertThat(replicaSha()).isEqualTo(primaryAt.get(2L));
        }
        try (DiskReplica backup = DiskReplica.open(backupDir, SIZE, BACKUP_BUFFER_BYTES)) {
            assertThat(backup.lastAppliedEpoch()).isEqualTo(2);
            assertThat(replicaSha()).isEqualTo(primaryAt.get(2L));
        }
        assertThat(registry.get("checkpointd.disk.writelog.epoch.bytes").summary().count()).isEqualTo(4);
    }
}
