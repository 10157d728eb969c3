package io.checkpointd.primary;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.backup.FailoverController;
import io.checkpointd.replication.Transport;
import io.checkpointd.replication.wire.Ack;
import io.checkpointd.replication.wire.CheckpointBegin;
import io.checkpointd.replication.wire.DeviceState;
import io.checkpointd.replication.wire.Handover;
import io.checkpointd.replication.wire.Pages;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What failover guarantees, checked with the primary crashing at every point of the protocol, the backup
 * crashing, and the connection cut. Written once; {@link InMemoryFailoverTest} and {@link TcpFailoverTest}
 * run it over an in-VM transport and over real TCP with UDP heartbeats.
 *
 * <p>Each test runs three committed checkpoints with client traffic, then breaks checkpoint 4, and checks
 * that the backup resumes from the right epoch with exactly the memory and device state of that epoch, that
 * every reply the client received refers to state the restored guest has, and that no reply from an epoch
 * after the resumed one ever reached the client.
 */
abstract class FailoverContract {
    /** The epoch of the checkpoint each test breaks: the fourth. */
    private long broken;

    @TempDir
    Path dir;

    Cluster cluster;

    abstract Transport transport();

    @BeforeEach
    void start() throws Exception {
        cluster = new Cluster(transport(), dir);
        cluster.awaitReady();
        for (int i = 0; i < 3; i++) {
            cluster.requests(40);
            cluster.awaitAck(cluster.checkpoint());
        }
        // An ACK is seen before net-buffer's release of it has run: wait for the replies themselves.
        Cluster.await(() -> cluster.received.size() == 120, "the replies of the committed epochs");
        cluster.requests(50); // the output of the fourth checkpoint
        broken = cluster.loop.nextEpoch();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private void assertResumedAt(FailoverController.Outcome outcome, long epoch) throws Exception {
        assertThat(outcome).as("the backup failed over").isNotNull();
        assertThat(outcome.resumedEpoch()).isEqualTo(epoch);
        Cluster.Restored restored = cluster.restored.getLast();
        assertThat(restored.ram()).as("restored RAM is the primary's at checkpoint %d", epoch)
                .isEqualTo(cluster.memoryAt(epoch));
        assertThat(restored.deviceState()).isEqualTo(cluster.deviceStateAt(epoch));
        assertThat(restored.disk()).as("restored disk is the primary's image at checkpoint %d", epoch)
                .isEqualTo(cluster.diskAt(epoch));
        cluster.drainEgress();
        for (Cluster.Reply reply : cluster.received) {
            assertThat(reply.epoch()).as("no reply of an uncommitted epoch left the primary").isLessThanOrEqualTo(epoch);
            assertThat(restored.valueOf(reply.key())).as("key %d: the restored guest has what the client saw", reply.key())
                    .isGreaterThanOrEqualTo(reply.value());
        }
    }

    private FailoverController.Outcome killDuring(java.util.function.Predicate<io.checkpointd.replication.wire.Frame> beforeWriting,
                                                 java.util.function.Predicate<io.checkpointd.replication.wire.Frame> onReceiving)
            throws Exception {
        cluster.faults.set(new FaultInjector.Fault(beforeWriting, onReceiving, () -> cluster.primaryDead.set(true)));
        cluster.checkpoint();
        Cluster.await(cluster.primaryDead::get, "the injected crash");
        cluster.killPrimary();
        return cluster.failover();
    }

    @Test
    void primaryDiesBeforeBegin() throws Exception {
        assertResumedAt(killDuring(f -> f instanceof CheckpointBegin b && b.epoch() == broken, f -> false), broken - 1);
    }

    @Test
    void primaryDiesMidPages() throws Exception {
        AtomicInteger pages = new AtomicInteger();
        assertResumedAt(killDuring(f -> f instanceof Pages p && p.epoch() == broken && pages.incrementAndGet() == 3,
                f -> false), broken - 1);
    }

    @Test
    void primaryDiesMidDeviceState() throws Exception {
        assertResumedAt(killDuring(f -> f instanceof DeviceState d && d.epoch() == broken, f -> false), broken - 1);
    }

    @Test
    void primaryDiesAfterEndBeforeTheAck() throws Exception {
        FailoverController.Outcome outcome = killDuring(f -> false, f -> f instanceof Ack a && a.epoch() == broken);
        assertResumedAt(outcome, broken);
        assertThat(cluster.received).as("epoch 4 committed on the backup, but its output never left").hasSize(120);
    }

    @Test
    void primaryDiesAfterTheAck() throws Exception {
        cluster.checkpoint();
        cluster.awaitAck(broken);
        cluster.drainEgress();
        Cluster.await(() -> cluster.received.size() == 170, "epoch 4's replies");
        cluster.killPrimary();
        assertResumedAt(cluster.failover(), broken);
    }

    @Test
    void backupDiesThenTheGuestRunsUnprotectedAndResynchronisesWithANewBackup() throws Exception {
        cluster.crashBackup();
        Cluster.await(() -> !cluster.client.isReady(), "the primary noticing");
        cluster.drainEgress();
        Cluster.await(() -> cluster.received.size() == 170, "held output released when protection is lost");
        cluster.requests(10);
        cluster.drainEgress();
        Cluster.await(() -> cluster.received.size() == 180, "output passing while unprotected");

        cluster.replaceBackup();
        cluster.awaitReady();
        long full = cluster.checkpoint();
        cluster.awaitAck(full);
        assertThat(cluster.backup.store(Cluster.DOMAIN).replica().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                .as("the new backup holds the guest as of the re-synchronising checkpoint")
                .isEqualTo(cluster.memoryAt(full));
        cluster.requests(5);
        long next = cluster.checkpoint();
        cluster.awaitAck(next);
        cluster.drainEgress();
        Cluster.await(() -> cluster.received.size() == 185, "released after the ACK");
        assertThat(cluster.received.subList(180, 185)).as("protected again: new output waited for its ACK")
                .allSatisfy(r -> assertThat(cluster.ackedWhenDelivered(r)).isGreaterThanOrEqualTo(next));
    }

    @Test
    void aCutConnectionDropsProtectionWithoutFailoverAndResynchronises() throws Exception {
        cluster.faults.set(new FaultInjector.Fault(f -> f instanceof Pages p && p.epoch() == broken, f -> false, () -> { }));
        cluster.checkpoint();
        Cluster.await(() -> !cluster.client.isReady(), "the primary noticing the cut");
        cluster.faults.set(FaultInjector.Fault.NONE);
        cluster.awaitReady();
        long full = cluster.checkpoint();
        cluster.awaitAck(full);
        assertThat(cluster.backup.slot(Cluster.DOMAIN).failover().outcome()).as("no failover: the primary lives").isNull();
        assertThat(cluster.backup.store(Cluster.DOMAIN).replica().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                .isEqualTo(cluster.memoryAt(full));
        assertThat(cluster.backupMetrics.discarded()).as("the cut checkpoint was thrown away").isEqualTo(1);
    }

    /**
     * The daemon's own guest-lost protocol: fence the guest, then HANDOVER, then its hand-over action; the
     * backup resumes at once, without waiting for silence.
     */
    @Test
    void aDaemonWhoseGuestStoppedFencesItAndHandsItOver() throws Exception {
        AtomicBoolean fencedBeforeHandover = new AtomicBoolean();
        cluster.faults.set(new FaultInjector.Fault(f -> {
            if (f instanceof Handover) {
                fencedBeforeHandover.set(cluster.fenced.get());
            }
            return false;
        }, f -> false, () -> { }));
        cluster.guestLost.complete("QEMU exited");
        Cluster.await(cluster.handedOver::get, "the primary handing the guest over");
        FailoverController controller = cluster.backup.slot(Cluster.DOMAIN).failover();
        Cluster.await(() -> controller.outcome() != null, "the backup resuming the guest on HANDOVER");
        assertThat(fencedBeforeHandover).as("the guest was fenced before HANDOVER left").isTrue();
        cluster.killPrimary();
        assertResumedAt(controller.outcome(), broken - 1);
        assertThat(controller.outcome().detectedAfterNs()).as("no silence was waited for")
                .isLessThan(Cluster.DETECTION.suspectAfterNs());
    }

    @Test
    void aPlannedStopSaysGoodbyeAndIsNotAFailure() throws Exception {
        cluster.client.close(); // GOODBYE, then disconnect
        assertThat(cluster.failover()).as("silence after GOODBYE is not death").isNull();
        assertThat(cluster.restored).isEmpty();
    }

    @Test
    void aLiveResynchronisationAfterABackupLossYieldsTheExactImage() throws Exception {
        cluster.crashBackup();
        Cluster.await(() -> !cluster.client.isReady(), "the primary noticing");
        cluster.replaceBackup();
        cluster.awaitReady();
        long epoch = cluster.fullSyncLive(new java.util.SplittableRandom(9));
        cluster.awaitAck(epoch);
        assertThat(cluster.backup.store(Cluster.DOMAIN).replica().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                .as("pages written during the pre-copy rounds arrived in their final state")
                .isEqualTo(cluster.memoryAt(epoch));
        assertThat(java.nio.file.Files.readAllBytes(cluster.backup.store(Cluster.DOMAIN).diskImage()))
                .as("the new backup's disk is a full copy of the primary's").isEqualTo(cluster.diskAt(epoch));
    }
}
