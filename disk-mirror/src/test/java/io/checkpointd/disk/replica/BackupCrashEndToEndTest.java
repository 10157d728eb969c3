package io.checkpointd.disk.replica;

import io.checkpointd.disk.DiskWrite;
import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.disk.EpochWrites;
import io.checkpointd.disk.Images;
import io.checkpointd.disk.QemuTools;
import io.checkpointd.disk.nbd.ListenAddress;
import io.checkpointd.disk.nbd.NbdServer;
import io.checkpointd.disk.nbd.NbdServerConfig;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.checkpointd.disk.QemuTools.qemuIo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The backup dies in the middle of applying an epoch the guest wrote through qemu-io: it has written
 * {@code applying 2} and part of epoch 2 into the replica when its process stops (the apply hook throws,
 * and nothing after that runs). Reopening yields a replica consistent with its activation record: epoch 2
 * exactly, when its spill log survived; a clear {@link InconsistentReplicaException} when the epoch was
 * held in memory only. (A real process kill: {@link DiskReplicaKillTest}.)
 */
@Timeout(120)
class BackupCrashEndToEndTest {
    private static final long SIZE = 8 << 20;

    @TempDir
    Path dir;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Path primaryImage;
    private Path backupDir;
    private EpochWriteLog writeLog;
    private NbdServer server;

    @BeforeEach
    void setUp(TestInfo test) throws IOException {
        QemuTools.assumeInstalled(test);
        primaryImage = Images.create(dir.resolve("primary.img"), SIZE);
        backupDir = dir.resolve("backup");
        writeLog = new EpochWriteLog(64 << 20, registry, Tags.empty());
        server = NbdServer.start(NbdServerConfig.of("vda", primaryImage, ListenAddress.Tcp.loopback(0)), writeLog,
                registry, Tags.empty());
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

    private void closeAndShip(long epoch, DiskReplica backup) throws IOException {
        EpochWrites writes = writeLog.closeEpoch(epoch);
        for (DiskWrite write : writes.writes()) {
            backup.append(epoch, write);
        }
    }

    private String replicaSha() throws IOException {
        return Images.sha256(backupDir.resolve("disk.replica"));
    }

    @ParameterizedTest(name = "memory budget {0} bytes")
    @ValueSource(longs = {0, 64 << 20})
    void aBackupDeadMidApplyIsConsistentWithItsActivationRecordWhenReopened(long backupBufferBytes) throws Exception {
        DiskReplica dying = DiskReplica.open(backupDir, SIZE, backupBufferBytes, registry, Tags.empty(),
                (epoch, index) -> {
                    if (epoch == 2 && index == 2) {
                        throw new ProcessDied();
                    }
                });
        qemuIo(server.uri(), "write -P 0x11 0 128k", "write -P 0x12 6M 64k");
        closeAndShip(1, dying);
        dying.commit(1);
        String atEpoch1 = Images.sha256(primaryImage);

        qemuIo(server.uri(), "write -P 0x22 64k 512k", "discard 6M 64k", "write -P 0x33 3M 128k",
                "write -P 0x44 0 4k");
        closeAndShip(2, dying);
        String atEpoch2 = Images.sha256(primaryImage);
        assertThatThrownBy(() -> dying.commit(2)).isInstanceOf(ProcessDied.class);
        dying.close();

        assertThat(Files.readString(backupDir.resolve("disk.activation"))).contains("state=applying", "epoch=2");
        assertThat(replicaSha()).as("torn: part of epoch 2").isNotEqualTo(atEpoch1).isNotEqualTo(atEpoch2);

        if (backupBufferBytes == 0) { // epoch 2 was in its spill log
            try (DiskReplica recovered = DiskReplica.open(backupDir, SIZE, backupBufferBytes)) {
                assertThat(recovered.lastAppliedEpoch()).isEqualTo(2);
            }
            assertThat(replicaSha()).isEqualTo(atEpoch2);
            assertThat(Files.readString(backupDir.resolve("disk.activation"))).contains("state=applied", "epoch=2");
        } else { // epoch 2 was in memory: gone with the process
            assertThatThrownBy(() -> DiskReplica.open(backupDir, SIZE, backupBufferBytes))
                    .isInstanceOf(InconsistentReplicaException.class).hasMessageContaining("epoch 2");
        }
    }

    private static final class ProcessDied extends RuntimeException {
    }
}
