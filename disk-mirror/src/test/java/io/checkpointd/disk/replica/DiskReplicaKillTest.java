package io.checkpointd.disk.replica;

import io.checkpointd.disk.DiskWrite;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A backup process really killed mid-apply (it halts its JVM), then a new process opens the replica. */
@Timeout(120)
class DiskReplicaKillTest {
    @TempDir
    Path dir;

    private int runBackupThatDies(long maxBufferedBytes, int dieAfter) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), CommitThenDie.class.getName(), dir.toString(),
                Long.toString(maxBufferedBytes), Integer.toString(dieAfter))
                .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return process.exitValue();
    }

    private static byte[] imageAfter(List<List<DiskWrite>> epochs) {
        byte[] image = new byte[CommitThenDie.SIZE];
        for (List<DiskWrite> epoch : epochs) {
            for (DiskWrite write : epoch) {
                if (write.data() != null) {
                    System.arraycopy(write.data(), 0, image, (int) write.offset(), write.data().length);
                } else {
                    Arrays.fill(image, (int) write.offset(), (int) write.end(), (byte) 0);
                }
            }
        }
        return image;
    }

    @Test
    void aSpilledEpochIsFinishedByTheNextProcess() throws Exception {
        int exit = runBackupThatDies(0, 2);

        assertThat(exit).as(Files.readString(dir.resolve("child.log"))).isEqualTo(CommitThenDie.EXIT_CODE);
        assertThat(Files.readString(dir.resolve("disk.activation"))).contains("state=applying", "epoch=2");
        byte[] torn = Files.readAllBytes(dir.resolve("disk.replica"));
        assertThat(torn).isNotEqualTo(imageAfter(List.of(CommitThenDie.EPOCH_1)))
                .isNotEqualTo(imageAfter(List.of(CommitThenDie.EPOCH_1, CommitThenDie.EPOCH_2)));

        try (DiskReplica replica = DiskReplica.open(dir, CommitThenDie.SIZE, 0)) {
            assertThat(replica.lastAppliedEpoch()).isEqualTo(2);
        }
        assertThat(Files.readAllBytes(dir.resolve("disk.replica")))
                .isEqualTo(imageAfter(List.of(CommitThenDie.EPOCH_1, CommitThenDie.EPOCH_2)));
        assertThat(Files.readString(dir.resolve("disk.activation"))).contains("state=applied", "epoch=2");
        assertThat(dir.resolve("spill-2.log")).doesNotExist();
    }

    @Test
    void anInMemoryEpochLeavesATornReplicaThatOpenReports() throws Exception {
        int exit = runBackupThatDies(1 << 20, 2);

        assertThat(exit).as(Files.readString(dir.resolve("child.log"))).isEqualTo(CommitThenDie.EXIT_CODE);
        assertThatThrownBy(() -> DiskReplica.open(dir, CommitThenDie.SIZE, 1 << 20))
                .isInstanceOf(InconsistentReplicaException.class).hasMessageContaining("epoch 2");
    }
}
