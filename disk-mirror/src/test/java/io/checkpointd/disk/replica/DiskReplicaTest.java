package io.checkpointd.disk.replica;

import io.checkpointd.disk.DiskWrite;
import io.checkpointd.disk.Images;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

import static io.checkpointd.disk.DiskWrite.RECORD_OVERHEAD_BYTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DiskReplicaTest {
    private static final int SIZE = 1 << 20;

    @TempDir
    Path dir;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    /** What the replica must hold after the last commit. */
    private final byte[] expected = new byte[SIZE];

    private DiskReplica open(long maxBufferedBytes) throws IOException {
        return DiskReplica.open(dir, SIZE, maxBufferedBytes, registry, Tags.empty());
    }

    private static DiskWrite write(long offset, int length, int value) {
        return DiskWrite.write(offset, Images.filled(length, value));
    }

    private void expect(DiskWrite write) {
        if (write.data() != null) {
            System.arraycopy(write.data(), 0, expected, (int) write.offset(), write.data().length);
        } else {
            Arrays.fill(expected, (int) write.offset(), (int) write.end(), (byte) 0);
        }
    }

    private void appendAll(DiskReplica replica, long epoch, List<DiskWrite> writes, boolean willCommit)
            throws IOException {
        for (DiskWrite write : writes) {
            replica.append(epoch, write);
            if (willCommit) {
                expect(write);
            }
        }
    }

    private void assertImageIsExpected() throws IOException {
        assertThat(Arrays.mismatch(Files.readAllBytes(dir.resolve("disk.replica")), expected))
                .as("first differing byte").isEqualTo(-1);
    }

    private String activation() throws IOException {
        return Files.readString(dir.resolve("disk.activation"));
    }

    private List<Path> spills() throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("spill-")).toList();
        }
    }

    @Test
    void aNewReplicaIsASparseZeroImageWithNoEpoch() throws IOException {
        try (DiskReplica replica = open(1 << 20)) {
            assertThat(replica.lastAppliedEpoch()).isEqualTo(DiskReplica.NO_EPOCH);
            assertThat(Files.size(replica.imagePath())).isEqualTo(SIZE);
        }
        assertImageIsExpected();
        assertThat(dir.resolve("disk.activation")).doesNotExist();
    }

    @Test
    void onlyCommittedEpochsReachTheImage() throws IOException {
        try (DiskReplica replica = open(1 << 20)) {
            List<DiskWrite> epoch1 = List.of(write(0, 4096, 1), write(2048, 100, 2), DiskWrite.zeroes(0, 10),
                    DiskWrite.trim(4000, 50));
            for (DiskWrite write : epoch1) {
                replica.append(1, write);
            }
            assertThat(Files.readAllBytes(replica.imagePath())).containsOnly(0);

            replica.commit(1);
            epoch1.forEach(this::expect);
            assertImageIsExpected();
            assertThat(replica.lastAppliedEpoch()).isEqualTo(1);
            assertThat(activation()).contains("state=applied", "epoch=1", "size_bytes=" + SIZE);

            appendAll(replica, 2, List.of(write(8192, 4096, 3)), false);
            replica.discard(2);
            appendAll(replica, 3, List.of(write(0, 4096, 4)), false); // never committed
            assertImageIsExpected();
            assertThat(replica.pendingEpochs()).containsExactly(3L);
        }
        try (DiskReplica reopened = open(1 << 20)) {
            assertThat(reopened.lastAppliedEpoch()).isEqualTo(1);
            assertThat(reopened.pendingEpochs()).isEmpty();
        }
        assertImageIsExpected();
    }

    @Test
    void anEpochWithoutChangesStillAdvancesTheRecord() throws IOException {
        try (DiskReplica replica = open(0)) {
            replica.commit(7);
            assertThat(replica.lastAppliedEpoch()).isEqualTo(7);
        }
        assertThat(activation()).contains("state=applied", "epoch=7");
    }

    @Test
    void epochsCommitInOrderAndRangesStayInsideTheDisk() throws IOException {
        try (DiskReplica replica = open(1 << 20)) {
            replica.append(1, write(0, 10, 1));
            replica.append(2, write(0, 10, 2));
            assertThatThrownBy(() -> replica.commit(2)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("epoch 1 is still pending");
            replica.commit(1);
            assertThatThrownBy(() -> replica.commit(1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> replica.append(1, write(0, 1, 1))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> replica.append(3, write(SIZE - 5, 10, 1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside");
            assertThatThrownBy(() -> replica.append(3, DiskWrite.trim(SIZE, 1)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> replica.append(3, DiskWrite.zeroes(Long.MAX_VALUE - 1, 1)))
                    .isInstanceOf(IllegalArgumentException.class);
            replica.append(3, DiskWrite.trim(SIZE - 1, 1)); // the last byte is inside
        }
    }

    @Test
    void anEpochBeyondTheMemoryBudgetSpillsWholeAndIsAppliedFromItsLog() throws IOException {
        long budget = 3 * (4096 + RECORD_OVERHEAD_BYTES);
        try (DiskReplica replica = open(budget)) {
            appendAll(replica, 1, List.of(write(0, 4096, 1), write(4096, 4096, 2)), true);
            assertThat(replica.bufferedBytes()).isEqualTo(2 * (4096 + RECORD_OVERHEAD_BYTES));
            assertThat(spills()).isEmpty();
            appendAll(replica, 1, List.of(write(8192, 4096, 3), write(1000, 5000, 4), DiskWrite.trim(0, 100)), true);

            assertThat(replica.bufferedBytes()).as("the whole epoch moved to its log").isZero();
            assertThat(spills()).containsExactly(dir.resolve("spill-1.log"));
            assertThat(registry.get(ReplicaMetrics.SPILLED_BYTES).counter().count())
                    .isEqualTo(Files.size(dir.resolve("spill-1.log")));

            replica.commit(1);
            assertImageIsExpected();
            assertThat(spills()).isEmpty();
            assertThat(registry.get(ReplicaMetrics.APPLIED_BYTES).counter().count()).isEqualTo(3 * 4096 + 5000);
        }
    }

    @Test
    void aBackupThatDiesMidApplyFinishesASpilledEpochWhenReopened() throws IOException {
        try (DiskReplica replica = open(1 << 20)) {
            appendAll(replica, 1, List.of(write(0, 8192, 1)), true);
            replica.commit(1);
        }
        List<DiskWrite> epoch2 = List.of(write(0, 4096, 2), write(4096, 4096, 3), DiskWrite.zeroes(100, 10),
                write(65536, 4096, 4));
        DiskReplica crashing = DiskReplica.open(dir, SIZE, 0, registry, Tags.empty(), (epoch, index) -> {
            if (index == 1) {
                throw new SimulatedCrash();
            }
        });
        appendAll(crashing, 2, epoch2, true);
        assertThatThrownBy(() -> crashing.commit(2)).isInstanceOf(SimulatedCrash.class);
        assertThat(activation()).contains("state=applying", "epoch=2");
        assertThat(Images.read(dir.resolve("disk.replica"), 4096, 1)).as("part of epoch 2 was applied")
                .containsExactly(3);
        assertThat(Images.read(dir.resolve("disk.replica"), 65536, 1)).as("the rest was not").containsExactly(0);
        assertThatThrownBy(() -> crashing.append(3, write(0, 1, 1))).isInstanceOf(IllegalStateException.class);
        crashing.close();

        try (DiskReplica recovered = open(1 << 20)) {
            assertThat(recovered.lastAppliedEpoch()).isEqualTo(2);
        }
        assertImageIsExpected();
        assertThat(activation()).contains("state=applied", "epoch=2");
        assertThat(spills()).isEmpty();
    }

    @Test
    void aBackupThatDiesMidApplyOfAnInMemoryEpochIsReportedTorn() throws IOException {
        DiskReplica crashing = DiskReplica.open(dir, SIZE, 1 << 20, registry, Tags.empty(), (epoch, index) -> {
            throw new SimulatedCrash();
        });
        crashing.append(4, write(0, 4096, 1));
        crashing.append(4, write(4096, 4096, 1));
        assertThatThrownBy(() -> crashing.commit(4)).isInstanceOf(SimulatedCrash.class);
        crashing.close();

        assertThatThrownBy(() -> open(1 << 20)).isInstanceOf(InconsistentReplicaException.class)
                .hasMessageContaining("applying epoch 4").hasMessageContaining("full resynchronisation")
                .satisfies(e -> assertThat(((InconsistentReplicaException) e).epoch()).isEqualTo(4));
    }

    @Test
    void aDamagedSpillLogIsReportedTornAndNothingIsApplied() throws IOException {
        DiskReplica crashing = DiskReplica.open(dir, SIZE, 0, registry, Tags.empty(), (epoch, index) -> {
            throw new SimulatedCrash();
        });
        crashing.append(1, write(0, 4096, 1));
        crashing.append(1, write(8192, 4096, 2));
        assertThatThrownBy(() -> crashing.commit(1)).isInstanceOf(SimulatedCrash.class);
        crashing.close();
        Path spill = dir.resolve("spill-1.log");
        try (FileChannel channel = FileChannel.open(spill, StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(new byte[] {9}), Files.size(spill) - 1); // last data byte
        }
        byte[] before = Files.readAllBytes(dir.resolve("disk.replica"));

        assertThatThrownBy(() -> open(1 << 20)).isInstanceOf(InconsistentReplicaException.class)
                .hasMessageContaining("checksum");
        assertThat(Files.readAllBytes(dir.resolve("disk.replica"))).isEqualTo(before);
    }

    @Test
    void aTruncatedSpillLogIsReportedTorn() throws IOException {
        DiskReplica crashing = DiskReplica.open(dir, SIZE, 0, registry, Tags.empty(), (epoch, index) -> {
            throw new SimulatedCrash();
        });
        crashing.append(1, write(0, 4096, 1));
        assertThatThrownBy(() -> crashing.commit(1)).isInstanceOf(SimulatedCrash.class);
        crashing.close();
        Path spill = dir.resolve("spill-1.log");
        try (FileChannel channel = FileChannel.open(spill, StandardOpenOption.WRITE)) {
            channel.truncate(Files.size(spill) - 100);
        }
        assertThatThrownBy(() -> open(1 << 20)).isInstanceOf(InconsistentReplicaException.class)
                .hasMessageContaining("cut short");
    }

    @Test
    void aReplicaOfAnotherSizeOrAGarbledRecordIsRefused() throws IOException {
        try (DiskReplica replica = open(0)) {
            replica.commit(1);
        }
        assertThatThrownBy(() -> DiskReplica.open(dir, SIZE * 2L, 0)).isInstanceOf(IOException.class)
                .hasMessageContaining("bytes");
        Files.writeString(dir.resolve("disk.activation"), "state=maybe\nepoch=x\n");
        assertThatThrownBy(() -> open(0)).isInstanceOf(InconsistentReplicaException.class)
                .hasMessageContaining("not a valid activation record");
    }

    @Test
    void leftoverSpillLogsOfUncommittedEpochsAreDeletedOnOpen() throws IOException {
        try (DiskReplica replica = open(0)) {
            replica.append(5, write(0, 10, 1)); // spills at once
            assertThat(spills()).hasSize(1);
        }
        assertThat(spills()).hasSize(1);
        try (DiskReplica replica = open(0)) {
            assertThat(spills()).isEmpty();
            assertThat(replica.lastAppliedEpoch()).isEqualTo(DiskReplica.NO_EPOCH);
        }
    }

    @Test
    void metersHavePrometheusNames() throws IOException {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (DiskReplica replica = DiskReplica.open(dir, SIZE, 100 + RECORD_OVERHEAD_BYTES, prometheus,
                Tags.of("disk", "vda"))) {
            replica.append(1, write(0, 100, 1));
            assertThat(prometheus.scrape()).contains(
                    "checkpointd_disk_replica_buffered_bytes{disk=\"vda\"} " + (100 + RECORD_OVERHEAD_BYTES),
                    "checkpointd_disk_replica_last_applied_epoch{disk=\"vda\"} -1");
            replica.commit(1);
            replica.append(2, write(0, 200, 1)); // over budget: spilled
            replica.discard(2);
            assertThat(prometheus.scrape()).contains(
                    "checkpointd_disk_replica_buffered_bytes{disk=\"vda\"} 0",
                    "checkpointd_disk_replica_applied_bytes_total{disk=\"vda\"} 100",
                    "checkpointd_disk_replica_spilled_bytes_total{disk=\"vda\"} " + (16 + 24 + 200),
                    "checkpointd_disk_replica_discarded_bytes_total{disk=\"vda\"} 200",
                    "checkpointd_disk_replica_last_applied_epoch{disk=\"vda\"} 1");
        } finally {
            prometheus.close();
        }
    }

    /** Stands for the process dying: nothing after it runs. */
    private static final class SimulatedCrash extends RuntimeException {
    }
}
